// Command go-stdversion reports uses of standard-library symbols that are newer than
// the go line of the module: what go vet's stdversion analyzer reports, also in the
// files that import "C". vet sees those only as cgo's generated output, and it leaves
// generated files alone, so in a cgo package (the flowdb bindings) it checks almost
// nothing.
//
// Usage: go run . DIR...
//
// Each DIR is a package directory; its go line is read from the go.mod at or above
// it. The package's non-test files (Go and cgo, as go/build selects them with cgo on)
// are type-checked with import "C" faked, and every identifier that refers to a
// standard-library function, type, variable, constant, method or field is looked up
// in $GOROOT/api/go1.N.txt for every N above the go line. The exit status is 1 when
// anything is reported. A file with a //go:build go1.N constraint is checked at that
// version, as vet does.
package main

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go-stdversion DIR...")
		os.Exit(2)
	}
	found := 0
	for _, dir := range os.Args[1:] {
		n, err := checkDir(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-stdversion: %s: %v\n", dir, err)
			os.Exit(2)
		}
		found += n
	}
	if found > 0 {
		os.Exit(1)
	}
}

// goLine is the go line of the module containing dir, as a minor version (24 for
// "go 1.24" or "go 1.24.1").
func goLine(dir string) (int, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
					return minor("go" + f[1])
				}
			}
			return 0, fmt.Errorf("%s/go.mod has no go line", d)
		}
		if filepath.Dir(d) == d {
			return 0, fmt.Errorf("no go.mod at or above %s", dir)
		}
	}
}

// minor is N of "go1.N" or "go1.N.P".
func minor(v string) (int, error) {
	rest, ok := strings.CutPrefix(v, "go1.")
	if !ok {
		return 0, fmt.Errorf("version %q is not go1.N", v)
	}
	rest, _, _ = strings.Cut(rest, ".")
	return strconv.Atoi(rest)
}

// newerSymbols maps "path.Name", "path.Type.Method" and "path.Type.Field" to the
// minor version that added it, for the versions above since.
func newerSymbols(since int) (map[string]int, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %v", err)
	}
	api := filepath.Join(strings.TrimSpace(string(out)), "api")
	platform := build.Default.GOOS + "-" + build.Default.GOARCH
	syms := map[string]int{}
	for n := since + 1; ; n++ {
		f, err := os.Open(filepath.Join(api, fmt.Sprintf("go1.%d.txt", n)))
		if os.IsNotExist(err) {
			return syms, nil
		} else if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if key := apiKey(sc.Text(), platform); key != "" {
				if _, ok := syms[key]; !ok {
					syms[key] = n
				}
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
}

// apiKey is the key of one line of an api file, e.g. "runtime.AddCleanup" for
// "pkg runtime, func AddCleanup[...](...) Cleanup #67535"; "" for a line of another
// platform or one not understood.
func apiKey(line, platform string) string {
	rest, ok := strings.CutPrefix(line, "pkg ")
	if !ok {
		return ""
	}
	pkg, decl, ok := strings.Cut(rest, ", ")
	if !ok {
		return ""
	}
	if p, qual, ok := strings.Cut(pkg, " ("); ok { // "syscall (linux-amd64-cgo)"
		if qual = strings.TrimSuffix(qual, ")"); qual != platform && qual != platform+"-cgo" {
			return ""
		}
		pkg = p
	}
	kind, decl, _ := strings.Cut(decl, " ")
	ident := func(s string) string { // the name at the start of s
		end := strings.IndexAny(s, "[( ")
		if end < 0 {
			return s
		}
		return s[:end]
	}
	switch kind {
	case "func", "const", "var":
		return pkg + "." + ident(decl)
	case "type":
		name := ident(decl)
		for _, sep := range []string{" struct, ", " interface, "} { // a field or an interface method
			if _, member, ok := strings.Cut(decl, sep); ok {
				return pkg + "." + name + "." + ident(member)
			}
		}
		return pkg + "." + name
	case "method": // "(*Pointer[$0]) Load() *$0"
		recv, name, ok := strings.Cut(decl, ") ")
		if !ok {
			return ""
		}
		return pkg + "." + ident(strings.TrimLeft(recv, "(*")) + "." + ident(name)
	}
	return ""
}

// checkDir reports the too-new uses in one package; returns how many.
func checkDir(dir string) (int, error) {
	since, err := goLine(dir)
	if err != nil {
		return 0, err
	}
	syms, err := newerSymbols(since)
	if err != nil {
		return 0, err
	}
	ctx := build.Default
	ctx.CgoEnabled = true
	bp, err := ctx.ImportDir(dir, 0)
	if err != nil {
		return 0, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range append(bp.GoFiles, bp.CgoFiles...) {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			return 0, err
		}
		files = append(files, f)
	}
	info := &types.Info{
		Uses:         map[*ast.Ident]types.Object{},
		Selections:   map[*ast.SelectorExpr]*types.Selection{},
		FileVersions: map[*ast.File]string{},
	}
	conf := types.Config{
		GoVersion:   fmt.Sprintf("go1.%d", since),
		FakeImportC: true,
		Importer:    importer.Default(),
		Error:       func(error) {}, // C's objects are unknown: errors around them are expected
	}
	pkg, _ := conf.Check(bp.ImportPath, fset, files, info)
	found := 0
	for _, f := range files {
		fileMinor := since
		if v, ok := info.FileVersions[f]; ok {
			if n, err := minor(v); err == nil && n > fileMinor {
				fileMinor = n
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			key := symbolKey(info, id, pkg)
			if v, ok := syms[key]; ok && v > fileMinor {
				fmt.Printf("%s: %s requires go1.%d or later (module is go1.%d)\n", fset.Position(id.Pos()), key, v, since)
				found++
			}
			return true
		})
	}
	return found, nil
}

// symbolKey is the api key of the standard-library object id refers to, or "".
func symbolKey(info *types.Info, id *ast.Ident, self *types.Package) string {
	obj := info.Uses[id]
	if obj == nil || obj.Pkg() == nil || obj.Pkg() == self {
		return ""
	}
	path := obj.Pkg().Path()
	if obj.Parent() == obj.Pkg().Scope() {
		return path + "." + obj.Name()
	}
	switch o := obj.(type) {
	case *types.Func: // a method: its receiver's type names it
		if recv := o.Signature().Recv(); recv != nil {
			if name := typeName(recv.Type()); name != "" {
				return path + "." + name + "." + o.Name()
			}
		}
	case *types.Var: // a field: the type selected from names it
		if !o.IsField() {
			return ""
		}
		for sel, s := range info.Selections {
			if sel.Sel == id && len(s.Index()) == 1 {
				if name := typeName(s.Recv()); name != "" {
					return path + "." + name + "." + o.Name()
				}
			}
		}
	}
	return ""
}

// typeName is the name of a (pointer to a) named type, generic types by their origin.
func typeName(t types.Type) string {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok {
		return n.Origin().Obj().Name()
	}
	return ""
}
