package flowdb

// Typed key-only reads: the primary keys GetAllKeys returns, as Key values (a number
// as a float64, a string as a string) instead of JSON text. The C library hands each
// key to a C function of this file (flowdb_*_get_all_keys_visit), which packs them
// into one buffer; Go reads the buffer once the call returns. So no cgo call is made
// per key, and no JSON is written or parsed.

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <flowdb.h>

// Keys packed for Go: per key a kind byte (0x80 set for true), the number's bits
// (8 bytes, little-endian), the text's length (4 bytes, little-endian) and the text.
typedef struct {
	unsigned char *buf;
	size_t len, cap;
	int failed;
} fdb_keys;

static int fdb_keys_room(fdb_keys *k, size_t more) {
	if (k->len + more <= k->cap) return 1;
	size_t cap = k->cap ? k->cap : 4096;
	while (cap < k->len + more) cap *= 2;
	unsigned char *b = realloc(k->buf, cap);
	if (!b) return 0;
	k->buf = b;
	k->cap = cap;
	return 1;
}

static bool fdb_keys_add(const flowdb_key_view_t *key, void *user) {
	fdb_keys *k = user;
	size_t text = key->text ? key->len : 0;
	if (text > UINT32_MAX || !fdb_keys_room(k, 13 + text)) {
		k->failed = 1;
		return false;
	}
	unsigned char *p = k->buf + k->len;
	p[0] = (unsigned char)key->kind | (key->boolean ? 0x80 : 0);
	uint64_t bits;
	memcpy(&bits, &key->number, 8);
	for (int i = 0; i < 8; i++) p[1 + i] = (unsigned char)(bits >> (8 * i));
	for (int i = 0; i < 4; i++) p[9 + i] = (unsigned char)((uint64_t)text >> (8 * i));
	if (text) memcpy(p + 13, key->text, text);
	k->len += 13 + text;
	return true;
}

static flowdb_status_t fdb_db_keys(const flowdb_jsondb_t *db, const char *store, const char *index,
                                   const flowdb_key_range_t *range, size_t count, fdb_keys *k,
                                   flowdb_error_t **err) {
	return flowdb_jsondb_get_all_keys_visit(db, store, index, range, count, fdb_keys_add, k, NULL, err);
}

static flowdb_status_t fdb_txn_keys(flowdb_txn_t *txn, const char *store, const char *index,
                                    const flowdb_key_range_t *range, size_t count, fdb_keys *k,
                                    flowdb_error_t **err) {
	return flowdb_txn_get_all_keys_visit(txn, store, index, range, count, fdb_keys_add, k, NULL, err);
}
*/
import "C"

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"unsafe"
)

// KeyKind is the type of a key (IndexedDB's number, string and array keys, plus
// null and booleans).
type KeyKind uint8

const (
	KeyNull    KeyKind = C.FLOWDB_KEY_NULL
	KeyBoolean KeyKind = C.FLOWDB_KEY_BOOLEAN
	KeyNumber  KeyKind = C.FLOWDB_KEY_NUMBER
	KeyString  KeyKind = C.FLOWDB_KEY_STRING
	KeyArray   KeyKind = C.FLOWDB_KEY_ARRAY
)

// Key is a key, typed: Kind says which field holds it (Bool, Number, or Text: a
// string key's text, an array key's JSON).
type Key struct {
	Kind   KeyKind
	Bool   bool
	Number float64
	Text   string
}

// JSON is the key as JSON text, as GetAllKeys returns it.
func (k Key) JSON() json.RawMessage {
	switch k.Kind {
	case KeyBoolean:
		return json.RawMessage(strconv.FormatBool(k.Bool))
	case KeyNumber:
		j, _ := json.Marshal(k.Number)
		return j
	case KeyString:
		j, _ := json.Marshal(k.Text)
		return j
	case KeyArray:
		return json.RawMessage(k.Text)
	}
	return json.RawMessage("null")
}

// GetAllKeysTyped is GetAllKeys with the keys typed (no JSON written or parsed: the
// fastest key-only read).
func (db *JSONDB) GetAllKeysTyped(store string, r IndexRange, count int) ([]Key, error) {
	return typedKeys(db.simple, store, "", r, count, dbKeys)
}

// GetAllKeysByIndexTyped is GetAllKeysByIndex with the keys typed.
func (db *JSONDB) GetAllKeysByIndexTyped(store, index string, r IndexRange, count int) ([]Key, error) {
	return typedKeys(db.simple, store, index, r, count, dbKeys)
}

// GetAllKeysTyped is GetAllKeys with the keys typed, as the transaction sees them.
func (tx *Txn) GetAllKeysTyped(store string, r IndexRange, count int) ([]Key, error) {
	return typedKeys(tx.call, store, "", r, count, txnKeys)
}

// GetAllKeysByIndexTyped is GetAllKeysByIndex with the keys typed, as the
// transaction sees them.
func (tx *Txn) GetAllKeysByIndexTyped(store, index string, r IndexRange, count int) ([]Key, error) {
	return typedKeys(tx.call, store, index, r, count, txnKeys)
}

func dbKeys(h *C.flowdb_jsondb_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, k *C.fdb_keys, c **C.flowdb_error_t) uint32 {
	return uint32(C.fdb_db_keys(h, s, i, kr, n, k, c))
}

func txnKeys(t *C.flowdb_txn_t, s, i *C.char, kr *C.flowdb_key_range_t, n C.size_t, k *C.fdb_keys, c **C.flowdb_error_t) uint32 {
	return uint32(C.fdb_txn_keys(t, s, i, kr, n, k, c))
}

// typedKeys runs a key visit (visit, on the handle run gives) into a C buffer, then
// reads the keys out of it. An empty index is the store's own keys (NULL to C).
func typedKeys[H any](run func(func(H, **C.flowdb_error_t) uint32) error, store, index string, r IndexRange, count int,
	visit func(H, *C.char, *C.char, *C.flowdb_key_range_t, C.size_t, *C.fdb_keys, **C.flowdb_error_t) uint32) ([]Key, error) {
	n, err := countArg(count)
	if err != nil {
		return nil, err
	}
	// C memory: the visit grows the buffer it points to during the call.
	k := (*C.fdb_keys)(C.calloc(1, C.size_t(unsafe.Sizeof(C.fdb_keys{}))))
	if k == nil {
		return nil, newError(CodeInternal, "out of memory for the keys")
	}
	defer func() {
		C.free(unsafe.Pointer(k.buf))
		C.free(unsafe.Pointer(k))
	}()
	err = rangeCall(run, store, index, r, func(h H, s, i *C.char, kr *C.flowdb_key_range_t, c **C.flowdb_error_t) uint32 {
		if index == "" {
			i = nil
		}
		return visit(h, s, i, kr, n, k, c)
	})
	if err != nil {
		return nil, err
	}
	if k.failed != 0 {
		return nil, newError(CodeInternal, "out of memory for the keys")
	}
	// Read where C packed them: each string is copied out by its conversion.
	return unpackKeys(unsafe.Slice((*byte)(unsafe.Pointer(k.buf)), int(k.len))), nil
}

// unpackKeys reads the keys fdb_keys_add packed.
func unpackKeys(b []byte) []Key {
	var keys []Key
	for len(b) >= 13 {
		kind := b[0]
		text := int(binary.LittleEndian.Uint32(b[9:13]))
		keys = append(keys, Key{
			Kind:   KeyKind(kind &^ 0x80),
			Bool:   kind&0x80 != 0,
			Number: math.Float64frombits(binary.LittleEndian.Uint64(b[1:9])),
			Text:   string(b[13 : 13+text]),
		})
		b = b[13+text:]
	}
	return keys
}
