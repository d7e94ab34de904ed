package flowdb

// Typed key-only reads (GetAllKeysTyped, GetAllKeysByIndexTyped) on a JSONDB and a
// Txn: every key type, counts, the index form, a transaction's own writes, and the
// same keys as the JSON form.

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// described is the keys as "kind:value" joined by "|".
func described(keys []Key) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		switch k.Kind {
		case KeyNull:
			s[i] = "null"
		case KeyBoolean:
			s[i] = "b:" + string(k.JSON())
		case KeyNumber:
			s[i] = "n:" + string(k.JSON())
		case KeyString:
			s[i] = "s:" + k.Text
		case KeyArray:
			s[i] = "a:" + k.Text
		}
	}
	return strings.Join(s, "|")
}

func TestGetAllKeysTyped(t *testing.T) {
	db := cursorDB(t)
	must := func(err error) { t.Helper(); mustOK(t, err) }
	all := IndexRange{}
	keys, err := db.GetAllKeysTyped("users", all, 0)
	must(err)
	if described(keys) != "n:1|n:2|n:3" || keys[0].Number != 1 {
		t.Fatalf("keys %s", described(keys))
	}
	if keys, _ := db.GetAllKeysTyped("users", all, 2); described(keys) != "n:1|n:2" {
		t.Fatalf("two keys %s", described(keys))
	}
	if keys, _ := db.GetAllKeysByIndexTyped("users", "age", all, 0); described(keys) != "n:2|n:1|n:3" {
		t.Fatalf("keys by index %s", described(keys))
	}
	if keys, err := db.GetAllKeysTyped("users", IndexRange{Lower: key("9")}, 0); len(keys) != 0 || err != nil {
		t.Fatalf("no keys: %v %v", keys, err)
	}

	// Keys of every type (an out-of-line store), in key order, as the JSON form has them.
	must(db.CreateObjectStore("k", "[]"))
	for _, k := range []string{`[1,"a",[null]]`, `"h\u00e9llo \ud834\udd1e"`, `7`, `true`, `-1.5`, `""`, `false`, `null`} {
		_, err := db.PutWithKey("k", json.RawMessage(`{"v":1}`), json.RawMessage(k))
		must(err)
	}
	keys, err = db.GetAllKeysTyped("k", all, 0)
	must(err)
	if got := described(keys); got != `null|b:false|b:true|n:-1.5|n:7|s:|s:héllo 𝄞|a:[1,"a",[null]]` {
		t.Fatalf("every type %s", got)
	}
	asJSON, err := db.GetAllKeys("k", all, 0)
	must(err)
	for i, k := range keys {
		var a, b any
		must(json.Unmarshal(k.JSON(), &a))
		must(json.Unmarshal(asJSON[i], &b))
		if ja, jb := must2(json.Marshal(a)), must2(json.Marshal(b)); ja != jb {
			t.Fatalf("key %d: %s, JSON form %s", i, ja, jb)
		}
	}

	// In a transaction: its own writes; closed, inactive.
	tx, err := db.Transaction(t.Context(), []string{"users"}, true)
	must(err)
	_, err = tx.Add("users", json.RawMessage(`{"age":25,"id":9}`))
	must(err)
	must(tx.DeleteRange("users", IndexRange{Upper: key("1")}))
	if keys, _ := tx.GetAllKeysTyped("users", all, 0); described(keys) != "n:2|n:3|n:9" {
		t.Fatalf("txn keys %s", described(keys))
	}
	if keys, _ := tx.GetAllKeysByIndexTyped("users", "age", IndexRange{Upper: key("26")}, 0); described(keys) != "n:2|n:9" {
		t.Fatalf("txn keys by index %s", described(keys))
	}
	must(tx.Abort())
	if _, err := tx.GetAllKeysTyped("users", all, 0); !errors.Is(err, ErrTransactionInactive) {
		t.Fatalf("closed txn: %v", err)
	}

	// Bad input.
	if _, err := db.GetAllKeysTyped("nope", all, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown store: %v", err)
	}
	if _, err := db.GetAllKeysByIndexTyped("users", "nope", all, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown index: %v", err)
	}
	if _, err := db.GetAllKeysTyped("users", all, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative count: %v", err)
	}
}

func must2(b []byte, err error) string {
	if err != nil {
		panic(err)
	}
	return string(b)
}
