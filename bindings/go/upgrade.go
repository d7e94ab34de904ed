package flowdb

// Schema versions: OpenJSONDBWithVersion, JSONDB.UpgradeTo and Version, and the
// Upgrade an upgrade func makes its changes through.
//
// The func goes to C in a runtime/cgo.Handle whose number is the C callback's user
// data. The C library calls flowdb_go_upgrade (below) on the calling goroutine's own
// thread, during the C call, which calls the exported flowdbGoUpgrade
// (events_export.go) with that number; the handle is deleted once the C call has
// returned. A panic in the func is recovered there (a panic must not unwind through
// the C library), the upgrade aborted, and the panic raised again in the caller once
// the C call has returned.

/*
#include <stdint.h>
#include <flowdb.h>

int flowdbGoUpgrade(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, uintptr_t call);

static int flowdb_go_upgrade(flowdb_upgrade_t *up, uint64_t old_version, uint64_t new_version, void *user) {
	return flowdbGoUpgrade(up, old_version, new_version, (uintptr_t)user);
}

// The upgrade calls with the Go callback, `call` its handle's number.
static enum flowdb_status_t flowdb_go_open_with_version(const flowdb_options_t *o, uint64_t version, uintptr_t call,
                                                        flowdb_jsondb_t **out, flowdb_error_t **err) {
	return flowdb_jsondb_open_with_version(o, version, flowdb_go_upgrade, (void *)call, out, err);
}
static enum flowdb_status_t flowdb_go_upgrade_to(const flowdb_jsondb_t *db, uint64_t version, uintptr_t call, flowdb_error_t **err) {
	return flowdb_jsondb_upgrade_to(db, version, flowdb_go_upgrade, (void *)call, err);
}
*/
import "C"

import (
	"encoding/json"
	"runtime/cgo"
)

// UpgradeFunc makes the changes of an upgrade from oldVersion (0 for a new database)
// to newVersion, through up. Returning nil commits them with the new version;
// returning an error aborts the upgrade (the database is left as it was) and the
// opener returns that error. A panic aborts it too, and is raised again in the
// opener's goroutine.
type UpgradeFunc func(up *Upgrade, oldVersion, newVersion uint64) error

// Upgrade is an upgrade in progress (IndexedDB's versionchange transaction): the
// schema changes below and, through its Txn, every request on every store, those it
// creates included. It is valid during its UpgradeFunc's call only: afterwards its
// calls fail with ErrTransactionInactive. Its Txn's Commit and Abort fail with
// ErrInvalidArgument: the UpgradeFunc's result commits or aborts the upgrade.
type Upgrade struct {
	*Txn
	up                     *C.flowdb_upgrade_t // a number naming the upgrade, not an address
	oldVersion, newVersion uint64
}

// upgradeCall is what an UpgradeFunc left: its error or its panic.
type upgradeCall struct {
	f        UpgradeFunc
	err      error
	panicked bool
	panic    any
}

// run calls the func for the C callback; 0 commits the upgrade.
func (uc *upgradeCall) run(h *C.flowdb_upgrade_t, oldVersion, newVersion uint64) (rc C.int) {
	var t *C.flowdb_txn_t
	var cerr *C.flowdb_error_t
	if err := check(C.flowdb_upgrade_txn(h, &t, &cerr), cerr); err != nil {
		uc.err = err
		return 1
	}
	up := &Upgrade{Txn: newTxn(t, func() {}), up: h, oldVersion: oldVersion, newVersion: newVersion}
	defer up.Txn.Close() // an Upgrade kept past the call: ErrTransactionInactive
	defer func() {
		if p := recover(); p != nil {
			uc.panicked, uc.panic, rc = true, p, 1
		}
	}()
	if uc.err = uc.f(up, oldVersion, newVersion); uc.err != nil {
		return 1
	}
	return 0
}

// upgrading runs the C call do with f as its upgrade callback, on a clean thread
// (beginthread.go: the upgrade begins a transaction). What f returned is returned as
// it is, and what it panicked with is raised again.
func upgrading(f UpgradeFunc, do func(call C.uintptr_t) error) error {
	if f == nil {
		return newError(CodeInvalidArgument, "invalid argument: the upgrade func is nil")
	}
	uc := &upgradeCall{f: f}
	h := cgo.NewHandle(uc)
	var err error
	onCleanThread(func(uintptr) { err = do(C.uintptr_t(h)) })
	h.Delete()
	if uc.panicked {
		panic(uc.panic)
	}
	if uc.err != nil {
		return uc.err
	}
	return err
}

// OpenJSONDBWithVersion opens the database in dir at schema version (>= 1;
// IndexedDB's open(name, version)). When the stored version is lower (0 for a new
// database), upgrade runs once, in one transaction over every store, and commits with
// the new version; when it returns an error (returned here) or panics (raised again
// here), or the commit fails, nothing is opened and the database is left as it was. A
// stored version above version is ErrInvalidArgument (IndexedDB's VersionError); the
// same version opens it without calling upgrade.
func OpenJSONDBWithVersion(dir string, opts *Options, version uint64, upgrade UpgradeFunc) (*JSONDB, error) {
	var h *C.flowdb_jsondb_t
	err := upgrading(upgrade, func(call C.uintptr_t) error {
		return openWith(dir, opts, func(o *C.flowdb_options_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_go_open_with_version(o, C.uint64_t(version), call, &h, c)
		})
	})
	if err != nil {
		return nil, err
	}
	return newJSONDB(h), nil
}

// UpgradeTo is OpenJSONDBWithVersion's step on an open database: it brings it to
// version, calling upgrade when the stored version is lower (after the transactions
// under way; Close meanwhile is ErrBusy, and so is UpgradeTo while a Close runs).
// The same version does nothing; a lower one, or 0, is ErrInvalidArgument. upgrade must make its changes through its Upgrade: the
// database's own schema methods fail with ErrBusy during it, and its transactions
// wait for it.
func (db *JSONDB) UpgradeTo(version uint64, upgrade UpgradeFunc) error {
	db.upMu.Lock()
	if db.closing > 0 {
		db.upMu.Unlock()
		return newError(CodeBusy, "busy: the database is being closed")
	}
	db.upgrades++
	db.upMu.Unlock()
	defer func() {
		db.upMu.Lock()
		db.upgrades--
		db.upMu.Unlock()
	}()
	return upgrading(upgrade, func(call C.uintptr_t) error {
		return db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
			return C.flowdb_go_upgrade_to(h, C.uint64_t(version), call, c)
		})
	})
}

// Version is the database's schema version: 0 until OpenJSONDBWithVersion or
// UpgradeTo set one.
func (db *JSONDB) Version() (uint64, error) {
	var v C.uint64_t
	err := db.simple(func(h *C.flowdb_jsondb_t, c **C.flowdb_error_t) uint32 {
		return C.flowdb_jsondb_version(h, &v, c)
	})
	return uint64(v), err
}

// OldVersion is the version the database had (0 for a new one).
func (up *Upgrade) OldVersion() uint64 { return up.oldVersion }

// NewVersion is the version being opened.
func (up *Upgrade) NewVersion() uint64 { return up.newVersion }

// schema runs a schema change on the upgrade with strs in C form (names: the
// arguments they came from, as for withStr).
func (up *Upgrade) schema(names, strs []string, f func(p []*C.char, c **C.flowdb_error_t) uint32) error {
	return withStr(names, strs, func(p []*C.char) error {
		var cerr *C.flowdb_error_t
		return check(f(p, &cerr), cerr)
	})
}

// CreateObjectStore is JSONDB.CreateObjectStore in the upgrade.
func (up *Upgrade) CreateObjectStore(name, keyPath string) error {
	return up.schema([]string{"name", "keyPath"}, []string{name, keyPath}, func(p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_upgrade_create_object_store(up.up, p[0], p[1], c)
	})
}

// CreateStore is JSONDB.CreateStore (a JSON description) in the upgrade.
func (up *Upgrade) CreateStore(schema json.RawMessage) error {
	j, n, free := jsonArg(schema)
	defer free()
	return up.schema(nil, nil, func(_ []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_upgrade_create_store(up.up, j, n, c)
	})
}

// DeleteObjectStore is JSONDB.DeleteObjectStore in the upgrade.
func (up *Upgrade) DeleteObjectStore(name string) error {
	return up.schema([]string{"name"}, []string{name}, func(p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_upgrade_delete_object_store(up.up, p[0], c)
	})
}

// CreateIndex is JSONDB.CreateIndex in the upgrade: the documents stored so far,
// those the upgrade wrote included, are indexed.
func (up *Upgrade) CreateIndex(store, name string, keyPaths []string, unique, multiEntry bool) error {
	return withCArray("keyPaths", keyPaths, func(paths **C.char, n C.size_t) error {
		return up.schema([]string{"store", "name"}, []string{store, name}, func(p []*C.char, c **C.flowdb_error_t) uint32 {
			return C.flowdb_upgrade_create_index_with(up.up, p[0], p[1], paths, n, C.bool(unique), C.bool(multiEntry), c)
		})
	})
}

// DeleteIndex is JSONDB.DeleteIndex in the upgrade.
func (up *Upgrade) DeleteIndex(store, name string) error {
	return up.schema([]string{"store", "name"}, []string{store, name}, func(p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_upgrade_delete_index(up.up, p[0], p[1], c)
	})
}

// RenameStore renames a store (IndexedDB's store.name = to); no data is rewritten.
// An unknown store is ErrNotFound; a name in use, ErrConstraint.
func (up *Upgrade) RenameStore(from, to string) error {
	return up.schema([]string{"from", "to"}, []string{from, to}, func(p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_upgrade_rename_store(up.up, p[0], p[1], c)
	})
}

// RenameIndex renames an index of store (IndexedDB's index.name = to).
func (up *Upgrade) RenameIndex(store, from, to string) error {
	return up.schema([]string{"store", "from", "to"}, []string{store, from, to}, func(p []*C.char, c **C.flowdb_error_t) uint32 {
		return C.flowdb_upgrade_rename_index(up.up, p[0], p[1], p[2], c)
	})
}
