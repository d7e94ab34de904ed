package flowdb

// Out-of-line keys (PutWithKey, AddWithKey, key paths "[]" and `["a"]`) and schema
// versions: OpenJSONDBWithVersion, UpgradeTo and Version with an UpgradeFunc making
// schema changes, renames and a migration; its error or panic aborting the upgrade;
// an Upgrade kept past its func; versions lower than the stored one; UpgradeTo and
// Close racing.

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestOutOfLineKeys(t *testing.T) {
	db, err := openTestJSONDB(t)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateObjectStore("notes", "[]"))
	must(db.CreateIndex("notes", "by_a", []string{`["a"]`}, false, false))
	must(db.CreateStore(raw(`{"name":"inline","keyPath":"id"}`)))
	def, err := db.GetStore("notes")
	must(err)
	if def.KeyPath != "[]" || len(def.Indexes) != 1 || def.Indexes[0].KeyPaths[0] != `["a"]` {
		t.Fatalf("store definition: %+v", def)
	}
	k, err := db.PutWithKey("notes", raw(`{"a":1}`), raw(`"k1"`))
	if err != nil || string(k) != `"k1"` {
		t.Fatalf("PutWithKey: %s %v", k, err)
	}
	if _, err := db.PutWithKey("notes", raw(`"a bare string"`), raw(`2`)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddWithKey("notes", raw(`{"a":9}`), raw(`"k1"`)); !errors.Is(err, ErrConstraint) {
		t.Fatalf("AddWithKey of a taken key: %v", err)
	}
	if _, err := db.AddWithKey("notes", raw(`{"a":3}`), raw(`3`)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutWithKey("inline", raw(`{"id":1}`), raw(`1`)); !errors.Is(err, ErrData) {
		t.Fatalf("PutWithKey on an in-line store: %v", err)
	}
	if _, err := db.Put("notes", raw(`{"a":1}`)); !errors.Is(err, ErrData) {
		t.Fatalf("Put without a key on an out-of-line store: %v", err)
	}
	// The array key path keys {"a":1} by [1].
	got, err := db.GetByIndex("notes", "by_a", raw(`[1]`))
	if err != nil || len(got) != 1 || string(got[0]) != `{"a":1}` {
		t.Fatalf("GetByIndex [1]: %s %v", got, err)
	}
	tx, err := db.Transaction(t.Context(), []string{"notes"}, true)
	must(err)
	defer tx.Close()
	if _, err := tx.PutWithKey("notes", raw(`{"a":4}`), raw(`4`)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.AddWithKey("notes", raw(`{}`), raw(`4`)); !errors.Is(err, ErrConstraint) {
		t.Fatalf("AddWithKey in a transaction: %v", err)
	}
	if _, err := tx.AddWithKey("notes", raw(`{"a":5}`), raw(`5`)); err != nil {
		t.Fatal(err)
	}
	must(tx.Commit())
	keys, err := db.GetAllKeys("notes", IndexRange{}, 0)
	must(err)
	if b, _ := json.Marshal(keys); string(b) != `[2,3,4,5,"k1"]` {
		t.Fatalf("keys: %s", b)
	}
}

func TestSchemaVersions(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{NoAutoBackground: true}
	calls := 0
	var kept *Upgrade
	db, err := OpenJSONDBWithVersion(dir, opts, 1, func(up *Upgrade, oldVersion, newVersion uint64) error {
		calls++
		if oldVersion != 0 || newVersion != 1 || up.OldVersion() != 0 || up.NewVersion() != 1 {
			t.Errorf("versions %d -> %d", oldVersion, newVersion)
		}
		for _, err := range []error{
			up.CreateObjectStore("people", "id"),
			up.CreateIndex("people", "by_name", []string{"name"}, false, false),
			up.CreateStore(raw(`{"name":"notes","keyPath":"[]"}`)),
			up.CreateObjectStore("scratch", "id"),
			up.DeleteObjectStore("scratch"),
		} {
			if err != nil {
				return err
			}
		}
		// Every Txn request, on the new stores.
		if _, err := up.Put("people", raw(`{"id":1,"name":"Ada"}`)); err != nil {
			return err
		}
		if _, err := up.PutWithKey("notes", raw(`{"a":1}`), raw(`"n1"`)); err != nil {
			return err
		}
		if n, err := up.Count("people"); err != nil || n != 1 {
			t.Errorf("count in the upgrade: %d %v", n, err)
		}
		if err := up.Commit(); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Commit of the upgrade's transaction: %v", err)
		}
		kept = up
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Version(); err != nil || v != 1 || calls != 1 {
		t.Fatalf("version %d %v, %d calls", v, err, calls)
	}
	// An Upgrade kept past its func: every call fails, nothing crashes.
	if err := kept.CreateObjectStore("late", "id"); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("CreateObjectStore after the upgrade: %v", err)
	}
	if err := kept.RenameStore("people", "p"); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("RenameStore after the upgrade: %v", err)
	}
	if _, err := kept.Put("people", raw(`{"id":9}`)); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("Put after the upgrade: %v", err)
	}

	// UpgradeTo: renames, index changes, a migration.
	err = db.UpgradeTo(2, func(up *Upgrade, oldVersion, _ uint64) error {
		calls++
		if oldVersion != 1 {
			t.Errorf("old version %d", oldVersion)
		}
		if err := db.CreateObjectStore("x", "id"); !errors.Is(err, ErrBusy) {
			t.Errorf("a one-call schema change from the upgrade: %v", err)
		}
		if err := db.Close(); !errors.Is(err, ErrBusy) {
			t.Errorf("Close from the upgrade: %v", err)
		}
		if err := up.RenameStore("people", "notes"); !errors.Is(err, ErrConstraint) {
			t.Errorf("RenameStore onto a store: %v", err)
		}
		for _, err := range []error{
			up.RenameStore("people", "persons"),
			up.RenameIndex("persons", "by_name", "name"),
			up.DeleteIndex("persons", "name"),
			up.CreateIndex("persons", "name", []string{"name"}, true, false),
		} {
			if err != nil {
				return err
			}
		}
		docs, err := up.GetAll("persons", IndexRange{}, 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			var v map[string]any
			if err := json.Unmarshal(d, &v); err != nil {
				return err
			}
			v["v"] = 2
			b, _ := json.Marshal(v)
			if _, err := up.Put("persons", b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.GetByIndex("persons", "name", raw(`"Ada"`))
	if err != nil || len(got) != 1 || string(got[0]) != `{"id":1,"name":"Ada","v":2}` {
		t.Fatalf("after the migration: %s %v", got, err)
	}

	// An error, a panic and a failed request abort: the database stays as it was.
	unchanged := func(what string) {
		t.Helper()
		v, _ := db.Version()
		names, _ := db.StoreNames()
		if v != 2 || strings.Join(names, ",") != "notes,persons" {
			t.Fatalf("%s changed the database: version %d, stores %v", what, v, names)
		}
	}
	mine := errors.New("migration failed")
	if err := db.UpgradeTo(3, func(up *Upgrade, _, _ uint64) error {
		if err := up.CreateObjectStore("temp", "id"); err != nil {
			return err
		}
		return mine
	}); err != mine {
		t.Fatalf("the func's error: %v", err)
	}
	unchanged("an error")
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("the func's panic: %v", p)
			}
		}()
		_ = db.UpgradeTo(3, func(up *Upgrade, _, _ uint64) error {
			_ = up.CreateObjectStore("temp", "id")
			panic("boom")
		})
		t.Fatal("no panic")
	}()
	unchanged("a panic")
	err = db.UpgradeTo(3, func(up *Upgrade, _, _ uint64) error {
		_, err := up.Add("persons", raw(`{"id":1,"name":"Ada"}`))
		return err
	})
	if !errors.Is(err, ErrConstraint) {
		t.Fatalf("a failed request: %v", err)
	}
	unchanged("a failed request")
	if err := db.UpgradeTo(1, func(*Upgrade, uint64, uint64) error { calls++; return nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a lower version: %v", err)
	}
	if err := db.UpgradeTo(2, func(*Upgrade, uint64, uint64) error { calls++; return nil }); err != nil || calls != 2 {
		t.Fatalf("the same version: %v, %d calls", err, calls)
	}
	if err := db.UpgradeTo(3, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a nil func: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Version(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Version after Close: %v", err)
	}

	// Reopened: below the stored version is ErrInvalidArgument; at it, no upgrade.
	if _, err := OpenJSONDBWithVersion(dir, opts, 1, func(*Upgrade, uint64, uint64) error { return nil }); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a lower version: %v", err)
	}
	db, err = OpenJSONDBWithVersion(dir, opts, 2, func(*Upgrade, uint64, uint64) error { calls++; return nil })
	if err != nil || calls != 2 {
		t.Fatalf("the same version: %v, %d calls", err, calls)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// An aborted open of a new directory opens nothing and leaves version 0.
	fresh := t.TempDir()
	if _, err := OpenJSONDBWithVersion(fresh, opts, 1, func(up *Upgrade, _, _ uint64) error {
		_ = up.CreateObjectStore("s", "id")
		return mine
	}); err != mine {
		t.Fatalf("an aborted open: %v", err)
	}
	db, err = OpenJSONDB(fresh, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(); v != 0 {
		t.Fatalf("version after an aborted open: %d", v)
	}
}

// Close and UpgradeTo racing: an upgrade func that calls the database while a Close
// waits for it used to hang both (the func's read lock queued behind Close's write
// lock). Here Close is under way (waiting for the event listener's last call) when
// UpgradeTo starts: UpgradeTo is ErrBusy at once, and Close then completes.
func TestUpgradeToWhileClosing(t *testing.T) {
	db, err := OpenJSONDB(t.TempDir(), &Options{NoAutoBackground: true})
	mustOK(t, err)
	mustOK(t, db.CreateObjectStore("s", "id"))
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	mustOK(t, db.SetEventListener(func(e Event) {
		if e.Kind == EventFlush {
			<-release
		}
	}))
	_, err = db.Put("s", raw(`{"id":1}`))
	mustOK(t, err)
	flushed := make(chan error, 1)
	go func() { flushed <- db.EngineFlush(context.Background()) }()
	time.Sleep(100 * time.Millisecond) // the listener holds its flush call
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	time.Sleep(100 * time.Millisecond) // Close waits for that call
	upgraded := make(chan error, 1)
	go func() {
		upgraded <- db.UpgradeTo(2, func(*Upgrade, uint64, uint64) error {
			free()
			time.Sleep(100 * time.Millisecond) // Close reaches its write lock
			_, err := db.Version()
			return err
		})
	}()
	wait := func(what string, c chan error) error {
		select {
		case err := <-c:
			return err
		case <-time.After(20 * time.Second):
			t.Fatalf("%s did not return: a deadlock", what)
			return nil
		}
	}
	if err := wait("UpgradeTo", upgraded); !errors.Is(err, ErrBusy) {
		t.Errorf("UpgradeTo while closing: %v, want ErrBusy", err)
	}
	free()
	mustOK(t, wait("Close", closed))
	mustOK(t, wait("EngineFlush", flushed))
}
