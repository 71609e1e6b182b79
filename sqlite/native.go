package sqlite

// The bulk paths (bulk inserts, streaming reads) talk to SQLite's C API
// directly, a batch of rows per cgo call. Through the driver, every bound
// value and every column read is a cgo call of its own, which ate the
// native engine's lead: a million 26-column rows took as long through
// mattn's driver as through the translated WebAssembly one (2026-11-28),
// and 3.2-5.6 s in C, against 5.4-10.9 s translated (2026-11-29). The
// SQLite linked is the one github.com/mattn/go-sqlite3 compiles; this
// file only declares the few functions of its C API that it calls.

/*
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
typedef struct sqlite3_context sqlite3_context;
typedef struct sqlite3_value sqlite3_value;
typedef long long int sqlite3_int64;

int sqlite3_prepare_v2(sqlite3 *db, const char *zSql, int nByte, sqlite3_stmt **ppStmt, const char **pzTail);
int sqlite3_finalize(sqlite3_stmt *pStmt);
int sqlite3_reset(sqlite3_stmt *pStmt);
int sqlite3_clear_bindings(sqlite3_stmt*);
int sqlite3_step(sqlite3_stmt*);
int sqlite3_bind_int64(sqlite3_stmt*, int, sqlite3_int64);
int sqlite3_bind_double(sqlite3_stmt*, int, double);
int sqlite3_bind_text(sqlite3_stmt*, int, const char*, int, void(*)(void*));
int sqlite3_bind_blob(sqlite3_stmt*, int, const void*, int n, void(*)(void*));
int sqlite3_bind_null(sqlite3_stmt*, int);
int sqlite3_column_count(sqlite3_stmt *pStmt);
int sqlite3_column_type(sqlite3_stmt*, int iCol);
sqlite3_int64 sqlite3_column_int64(sqlite3_stmt*, int iCol);
double sqlite3_column_double(sqlite3_stmt*, int iCol);
const unsigned char *sqlite3_column_text(sqlite3_stmt*, int iCol);
const void *sqlite3_column_blob(sqlite3_stmt*, int iCol);
int sqlite3_column_bytes(sqlite3_stmt*, int iCol);
const char *sqlite3_errmsg(sqlite3*);
int sqlite3_extended_errcode(sqlite3 *db);
int sqlite3_exec(sqlite3*, const char *sql, int (*callback)(void*,int,char**,char**), void *, char **errmsg);
void sqlite3_free(void*);
int sqlite3_get_autocommit(sqlite3*);
void sqlite3_interrupt(sqlite3*);
int sqlite3_auto_extension(void(*xEntryPoint)(void));
int sqlite3_create_function_v2(sqlite3 *db, const char *zFunctionName, int nArg, int eTextRep, void *pApp,
	void (*xFunc)(sqlite3_context*,int,sqlite3_value**), void (*xStep)(sqlite3_context*,int,sqlite3_value**),
	void (*xFinal)(sqlite3_context*), void(*xDestroy)(void*));
sqlite3 *sqlite3_context_db_handle(sqlite3_context*);
void sqlite3_result_int64(sqlite3_context*, sqlite3_int64);

#define SHK_OK 0
#define SHK_ROW 100
#define SHK_DONE 101
#define SHK_INTEGER 1
#define SHK_FLOAT 2
#define SHK_TEXT 3
#define SHK_BLOB 4
#define SHK_NULL 5
#define SHK_STATIC ((void(*)(void*))0)
#define SHK_TRANSIENT ((void(*)(void*))-1)
#define SHK_UTF8 1
#define SHK_DIRECTONLY 0x000080000

// shikaku_connection() returns the connection's own handle, so that the
// Go side can reach the C API of a connection that database/sql opened.
static void shk_connection(sqlite3_context *ctx, int n, sqlite3_value **v) {
	sqlite3_result_int64(ctx, (sqlite3_int64)(intptr_t)sqlite3_context_db_handle(ctx));
}

static int shk_entry(sqlite3 *db, char **err, const void *api) {
	return sqlite3_create_function_v2(db, "shikaku_connection", 0, SHK_UTF8 | SHK_DIRECTONLY, 0, shk_connection, 0, 0, 0);
}

static int shk_register(void) {
	return sqlite3_auto_extension((void (*)(void))shk_entry);
}

static sqlite3 *shk_db(int64_t h) { return (sqlite3 *)(intptr_t)h; }

// Values travel in buffers as a tag (the SQLite type), then 8 bytes
// (integer, float) or a 4-byte length and the bytes (text, blob), all
// little-endian as on every machine this runs on.

// shk_bind binds cols values from *p onward to st's parameters 1..cols
// and advances *p. Text and blobs are copied (SQLITE_TRANSIENT) or bound
// in place (SQLITE_STATIC), and then the caller clears the bindings
// before it returns to Go: C keeps no pointer into Go memory.
static int shk_bind(sqlite3_stmt *st, const unsigned char **pp, int cols, void (*keep)(void *)) {
	const unsigned char *p = *pp;
	int rc = SHK_OK;
	for (int i = 1; i <= cols && rc == SHK_OK; i++) {
		unsigned char tag = *p++;
		switch (tag) {
		case SHK_INTEGER: { int64_t v; memcpy(&v, p, 8); p += 8; rc = sqlite3_bind_int64(st, i, v); break; }
		case SHK_FLOAT: { double v; memcpy(&v, p, 8); p += 8; rc = sqlite3_bind_double(st, i, v); break; }
		case SHK_TEXT: { uint32_t n; memcpy(&n, p, 4); p += 4; rc = sqlite3_bind_text(st, i, (const char *)p, (int)n, keep); p += n; break; }
		case SHK_BLOB: { uint32_t n; memcpy(&n, p, 4); p += 4; rc = sqlite3_bind_blob(st, i, p, (int)n, keep); p += n; break; }
		default: rc = sqlite3_bind_null(st, i);
		}
	}
	*pp = p;
	return rc;
}

// shk_insert runs st once for each row of cols values in buf (len bytes).
// It returns the first error, with st reset and its bindings cleared.
static int shk_insert(sqlite3_stmt *st, const unsigned char *buf, int64_t len, int cols) {
	const unsigned char *p = buf, *end = buf + len;
	int rc = SHK_OK;
	while (p < end) {
		if ((rc = shk_bind(st, &p, cols, SHK_STATIC)) != SHK_OK) break;
		rc = sqlite3_step(st);
		if (rc != SHK_DONE) break;
		rc = sqlite3_reset(st);
		if (rc != SHK_OK) break;
	}
	if (rc == SHK_DONE) rc = SHK_OK;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

// shk_start resets st and binds copies of its arguments from buf: they
// outlive the call, for as long as the rows are fetched.
static int shk_start(sqlite3_stmt *st, const unsigned char *buf, int cols) {
	int rc = sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SHK_OK) return rc;
	return shk_bind(st, &buf, cols, SHK_TRANSIENT);
}

// shk_row_size is the size of the current row of st in a buffer: a
// 4-byte length, then its columns.
static int64_t shk_row_size(sqlite3_stmt *st, int cols) {
	int64_t size = 4;
	for (int i = 0; i < cols; i++) {
		switch (sqlite3_column_type(st, i)) {
		case SHK_INTEGER: case SHK_FLOAT: size += 9; break;
		case SHK_TEXT: case SHK_BLOB: size += 5 + sqlite3_column_bytes(st, i); break;
		default: size += 1;
		}
	}
	return size;
}

// shk_fetch steps st and writes its rows into buf (cap bytes), at most
// max of them. *pending says that the current row was stepped to and not
// yet written (it did not fit in the last buffer). It returns SHK_ROW
// when more rows may follow, SHK_DONE at the end, -1 when the pending
// row alone needs a buffer of *used bytes, or an error; *used and *rows
// are what it wrote.
static int shk_fetch(sqlite3_stmt *st, unsigned char *buf, int64_t cap, int max, int *pending, int64_t *used, int *rows) {
	int cols = sqlite3_column_count(st);
	int64_t off = 0;
	*rows = 0;
	for (;;) {
		if (*rows >= max) { *used = off; return SHK_ROW; }
		if (!*pending) {
			int rc = sqlite3_step(st);
			if (rc != SHK_ROW) { *used = off; return rc; }
			*pending = 1;
		}
		int64_t size = shk_row_size(st, cols);
		if (off + size > cap) {
			if (off == 0) { *used = size; return -1; }
			*used = off;
			return SHK_ROW;
		}
		unsigned char *p = buf + off;
		uint32_t n32 = (uint32_t)size;
		memcpy(p, &n32, 4); p += 4;
		for (int i = 0; i < cols; i++) {
			int t = sqlite3_column_type(st, i);
			switch (t) {
			case SHK_INTEGER: { int64_t v = sqlite3_column_int64(st, i); *p++ = SHK_INTEGER; memcpy(p, &v, 8); p += 8; break; }
			case SHK_FLOAT: { double v = sqlite3_column_double(st, i); *p++ = SHK_FLOAT; memcpy(p, &v, 8); p += 8; break; }
			case SHK_TEXT: case SHK_BLOB: {
				const void *v = t == SHK_TEXT ? (const void *)sqlite3_column_text(st, i) : sqlite3_column_blob(st, i);
				uint32_t n = (uint32_t)sqlite3_column_bytes(st, i);
				*p++ = (unsigned char)t; memcpy(p, &n, 4); p += 4;
				if (n) memcpy(p, v, n);
				p += n;
				break;
			}
			default: *p++ = SHK_NULL;
			}
		}
		off += size;
		*pending = 0;
		(*rows)++;
	}
}
*/
import "C"

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	_ "github.com/mattn/go-sqlite3" // the SQLite linked into the binary, and the database/sql driver
)

func init() {
	if rc := C.shk_register(); rc != 0 {
		panic(fmt.Sprintf("sqlite: registering shikaku_connection: code %d", rc))
	}
}

// conn is the C handle of a connection that database/sql holds: valid for
// as long as the caller holds that connection (sql.Conn.Raw), with the
// context of that use.
type conn struct {
	db  *C.sqlite3
	ctx context.Context
}

// handleOf asks a driver connection for its C handle.
func handleOf(ctx context.Context, dc any) (*conn, error) {
	q, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, fmt.Errorf("sqlite: driver connection %T cannot query", dc)
	}
	rows, err := q.QueryContext(ctx, `SELECT shikaku_connection()`, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return nil, err
	}
	h, ok := v[0].(int64)
	if !ok || h == 0 {
		return nil, fmt.Errorf("sqlite: no connection handle (%v)", v[0])
	}
	return &conn{db: C.shk_db(C.int64_t(h)), ctx: ctx}, nil
}

// apiError is an error of SQLite's C API with its extended result code.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// codeInterrupt is SQLITE_INTERRUPT: a statement stopped by interruptOn.
const codeInterrupt = 9

func (c *conn) error(rc C.int) error {
	if rc == C.SHK_OK || rc == C.SHK_DONE || rc == C.SHK_ROW {
		return nil
	}
	return c.cancelled(&apiError{code: int(C.sqlite3_extended_errcode(c.db)), msg: C.GoString(C.sqlite3_errmsg(c.db))})
}

// cancelled is err, or for a statement interrupted because the context
// ended, the context's error with err: callers ask whether they were
// cancelled, not whether SQLite was interrupted.
func (c *conn) cancelled(err *apiError) error {
	if err.code&0xff == codeInterrupt && c.ctx.Err() != nil {
		return fmt.Errorf("%w: %w", c.ctx.Err(), err)
	}
	return err
}

// interruptOn interrupts the statements of c when ctx ends, until the
// returned stop is called. stop waits for an interrupt under way, so
// that none reaches the connection after it went back to the pool.
func (c *conn) interruptOn(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	db, done := c.db, make(chan struct{})
	after := context.AfterFunc(ctx, func() {
		C.sqlite3_interrupt(db)
		close(done)
	})
	return func() {
		if !after() {
			<-done
		}
	}
}

// Exec runs SQL without arguments and results.
func (c *conn) Exec(query string) error {
	q := C.CString(query)
	defer C.free(unsafe.Pointer(q))
	var msg *C.char
	rc := C.sqlite3_exec(c.db, q, nil, nil, &msg)
	if msg != nil {
		defer C.sqlite3_free(unsafe.Pointer(msg))
	}
	if rc != C.SHK_OK {
		m := "error"
		if msg != nil {
			m = C.GoString(msg)
		}
		return c.cancelled(&apiError{code: int(C.sqlite3_extended_errcode(c.db)), msg: m})
	}
	return nil
}

// InTransaction tells whether a transaction is open on c.
func (c *conn) InTransaction() bool { return C.sqlite3_get_autocommit(c.db) == 0 }

// cstmt is a prepared statement of a conn.
type cstmt struct {
	c    *conn
	st   *C.sqlite3_stmt
	args []byte // the encoded arguments of the current run
	rows []byte // the rows fetched last, kept for the next run
}

func (c *conn) prepare(query string) (*cstmt, error) {
	q := C.CString(query)
	defer C.free(unsafe.Pointer(q))
	var st *C.sqlite3_stmt
	if rc := C.sqlite3_prepare_v2(c.db, q, -1, &st, nil); rc != C.SHK_OK {
		return nil, c.error(rc)
	}
	if st == nil {
		return nil, fmt.Errorf("sqlite: no statement in %q", query)
	}
	return &cstmt{c: c, st: st}, nil
}

func (s *cstmt) Close() error {
	if s.st == nil {
		return nil
	}
	rc := C.sqlite3_finalize(s.st)
	s.st = nil
	return s.c.error(rc) // the error of the statement's last run, if any
}

// insert runs an INSERT of cols parameters once per row of vals.
func (s *cstmt) insert(vals []value, cols int) error {
	s.args = encodeValues(s.args[:0], vals)
	if len(s.args) == 0 {
		return nil
	}
	rc := C.shk_insert(s.st, (*C.uchar)(unsafe.Pointer(&s.args[0])), C.int64_t(len(s.args)), C.int(cols))
	return s.c.error(rc)
}

// start resets the statement and binds args.
func (s *cstmt) start(args []value) error {
	s.args = encodeValues(s.args[:0], args)
	s.args = append(s.args, 0) // a valid pointer even without arguments
	return s.c.error(C.shk_start(s.st, (*C.uchar)(unsafe.Pointer(&s.args[0])), C.int(len(args))))
}

// finish resets the statement and frees the copies of its arguments.
func (s *cstmt) finish() {
	C.sqlite3_reset(s.st)
	C.sqlite3_clear_bindings(s.st)
}

// fetchRows and fetchBytes bound a batch of fetched rows: small enough
// that the first rows reach a streaming reader early, large enough that
// the cgo call costs nothing per row.
const (
	fetchRows  = 256
	fetchBytes = 64 << 10
)

// fetcher reads the rows of a started statement in batches, into the
// statement's buffer.
type fetcher struct {
	s       *cstmt
	pending C.int
	rows    int // rows left in s.rows
	off     int
	done    bool
}

// next reads the next row into r, and reports false at the end.
func (f *fetcher) next(r *row) (bool, error) {
	if f.rows == 0 {
		if f.done {
			return false, nil
		}
		if f.s.rows == nil {
			f.s.rows = make([]byte, fetchBytes)
		}
		for {
			buf := f.s.rows
			var used C.int64_t
			var n C.int
			rc := C.shk_fetch(f.s.st, (*C.uchar)(unsafe.Pointer(&buf[0])), C.int64_t(len(buf)), fetchRows, &f.pending, &used, &n)
			if rc == -1 {
				f.s.rows = make([]byte, int(used))
				continue
			}
			if rc != C.SHK_ROW && rc != C.SHK_DONE {
				return false, f.s.c.error(rc)
			}
			f.done = rc == C.SHK_DONE
			f.rows, f.off = int(n), 0
			break
		}
		if f.rows == 0 {
			return false, nil
		}
	}
	buf := f.s.rows
	size := int(binary.LittleEndian.Uint32(buf[f.off:]))
	r.buf = buf[f.off+4 : f.off+size]
	f.off += size
	f.rows--
	return true, nil
}

// encodeValues appends vals to buf as shk_bind reads them.
func encodeValues(buf []byte, vals []value) []byte {
	for _, v := range vals {
		switch v.kind {
		case valueInt:
			buf = append(buf, C.SHK_INTEGER)
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v.i))
		case valueReal:
			buf = append(buf, C.SHK_FLOAT)
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v.f))
		case valueText, valueBlob:
			tag := byte(C.SHK_TEXT)
			if v.kind == valueBlob {
				tag = C.SHK_BLOB
			}
			buf = append(buf, tag)
			buf = binary.LittleEndian.AppendUint32(buf, uint32(len(v.s)))
			buf = append(buf, v.s...)
		default:
			buf = append(buf, C.SHK_NULL)
		}
	}
	return buf
}

// row reads the columns of a fetched row in the order of its query,
// converting as SQLite's column functions do.
type row struct {
	buf []byte
}

// column takes the next column: its type, integer or float, and bytes.
func (r *row) column() (tag byte, i int64, f float64, b []byte) {
	if len(r.buf) == 0 {
		return C.SHK_NULL, 0, 0, nil
	}
	tag, r.buf = r.buf[0], r.buf[1:]
	switch tag {
	case C.SHK_INTEGER:
		i, r.buf = int64(binary.LittleEndian.Uint64(r.buf)), r.buf[8:]
	case C.SHK_FLOAT:
		f, r.buf = math.Float64frombits(binary.LittleEndian.Uint64(r.buf)), r.buf[8:]
	case C.SHK_TEXT, C.SHK_BLOB:
		n := int(binary.LittleEndian.Uint32(r.buf))
		b, r.buf = r.buf[4:4+n], r.buf[4+n:]
	}
	return tag, i, f, b
}

// text is the next column as text; NULL is "".
func (r *row) text() string {
	tag, i, f, b := r.column()
	switch tag {
	case C.SHK_INTEGER:
		return strconv.FormatInt(i, 10)
	case C.SHK_FLOAT:
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return string(b)
}

// int64 is the next column as an integer; NULL is 0.
func (r *row) int64() int64 {
	tag, i, f, b := r.column()
	switch tag {
	case C.SHK_FLOAT:
		return int64(f)
	case C.SHK_TEXT, C.SHK_BLOB:
		n, _ := strconv.ParseInt(string(b), 10, 64)
		return n
	}
	return i
}

// date is the next column, a date stored as YYYYMMDD; NULL is the zero
// time.
func (r *row) date() time.Time {
	if len(r.buf) > 0 && r.buf[0] == C.SHK_NULL {
		r.column()
		return time.Time{}
	}
	return dateOf(r.int64())
}
