package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf16"
)

// finisher rewrites the PDF that gopdf compiled, object by object, and
// builds a new cross-reference table. It does two things gopdf does not:
//
//   - gopdf writes each ToUnicode entry as <%04X> of the code point, so a
//     character beyond the BMP (𠮷 U+20BB7, common in IPAmj names) gets
//     five hex digits, which readers reject: the glyph prints but the text
//     layer (search, copy, pdftotext) loses it. The entry must be the
//     UTF-16BE surrogate pair.
//   - gopdf opens a new zlib writer for every page, and each allocates
//     and clears about 1 MB; that was a third of the time of a cover
//     sheet. gopdf writes the pages uncompressed instead and the finisher
//     compresses them with one writer, reset between streams.
//
// A finisher is used by one goroutine at a time (see finishers); its
// buffers are reused.
type finisher struct {
	in, out bytes.Buffer
	stream  bytes.Buffer
	zw      *zlib.Writer
}

func newFinisher() *finisher {
	zw, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	return &finisher{zw: zw}
}

var (
	wideEntry   = regexp.MustCompile(`<([0-9A-F]{4})><([0-9A-F]{4})><([0-9A-F]{5,6})>`)
	plainStream = []byte("<<\n/Length ")
)

// finish rewrites pdf (which may alias f.in) and returns the result,
// valid until the next call.
func (f *finisher) finish(pdf []byte) ([]byte, error) {
	offsets, xrefAt, trailer, err := readXref(pdf)
	if err != nil {
		return nil, fmt.Errorf("PDF を仕上げられません: %w", err)
	}
	out := &f.out
	out.Reset()
	out.Grow(len(pdf) / 3)
	out.Write(pdf[:offsets[0]])
	newOffsets := make([]int, len(offsets))
	for i, start := range offsets {
		end := xrefAt
		if i+1 < len(offsets) {
			end = offsets[i+1]
		}
		newOffsets[i] = out.Len()
		if err := f.object(out, pdf[start:end]); err != nil {
			return nil, fmt.Errorf("PDF のオブジェクト %d を仕上げられません: %w", i+1, err)
		}
	}
	xref := out.Len()
	fmt.Fprintf(out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	var line [20]byte
	for _, o := range newOffsets {
		b := strconv.AppendInt(line[:0], int64(o), 10)
		out.WriteString("0000000000"[len(b):])
		out.Write(b)
		out.WriteString(" 00000 n \n")
	}
	out.Write(trailer)
	fmt.Fprintf(out, "startxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes(), nil
}

// object copies one "N 0 obj … endobj" to out: an unfiltered stream is
// compressed (after repairing its CMap entries, if it is a ToUnicode).
func (f *finisher) object(out *bytes.Buffer, obj []byte) error {
	head := bytes.IndexByte(obj, '\n') + 1 // after "N 0 obj\n"
	if head <= 0 || !bytes.HasPrefix(obj[head:], plainStream) {
		out.Write(obj)
		return nil
	}
	rest := obj[head+len(plainStream):]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		out.Write(obj)
		return nil
	}
	n, err := strconv.Atoi(string(rest[:nl]))
	if err != nil || n < 0 || !bytes.HasPrefix(rest[nl+1:], []byte(">>\nstream\n")) {
		out.Write(obj)
		return nil
	}
	dataAt := nl + 1 + len(">>\nstream\n")
	if dataAt+n > len(rest) {
		return fmt.Errorf("ストリームの長さ %d がオブジェクトを超えています", n)
	}
	data := rest[dataAt : dataAt+n]
	if bytes.Contains(data, []byte("beginbfrange")) {
		data = wideEntry.ReplaceAllFunc(data, surrogatePair)
	}
	f.stream.Reset()
	f.zw.Reset(&f.stream)
	f.zw.Write(data)
	if err := f.zw.Close(); err != nil {
		return err
	}
	out.Write(obj[:head])
	fmt.Fprintf(out, "<<\n/Filter /FlateDecode\n/Length %d\n>>\nstream\n", f.stream.Len())
	out.Write(f.stream.Bytes())
	out.Write(rest[dataAt+n:])
	return nil
}

// surrogatePair rewrites <GGGG><GGGG><UUUUU> as the UTF-16BE pair.
func surrogatePair(m []byte) []byte {
	p := wideEntry.FindSubmatch(m)
	cp, _ := strconv.ParseUint(string(p[3]), 16, 32)
	hi, lo := utf16.EncodeRune(rune(cp))
	return fmt.Appendf(nil, "<%s><%s><%04X%04X>", p[1], p[2], hi, lo)
}

// readXref reads the classic cross-reference table gopdf writes: the
// offsets of objects 1…n in file order, where the table starts, and the
// trailer dictionary up to startxref.
func readXref(pdf []byte) (offsets []int, xrefAt int, trailer []byte, err error) {
	i := bytes.LastIndex(pdf, []byte("startxref"))
	if i < 0 {
		return nil, 0, nil, fmt.Errorf("startxref がありません")
	}
	f := bytes.Fields(pdf[i+len("startxref"):])
	if len(f) == 0 {
		return nil, 0, nil, fmt.Errorf("startxref の値がありません")
	}
	if xrefAt, err = strconv.Atoi(string(f[0])); err != nil || xrefAt < 0 || xrefAt >= i {
		return nil, 0, nil, fmt.Errorf("startxref %q が不正です", f[0])
	}
	t := bytes.Index(pdf[xrefAt:i], []byte("trailer"))
	if t < 0 {
		return nil, 0, nil, fmt.Errorf("trailer がありません")
	}
	trailer = pdf[xrefAt+t : i]
	lines := bytes.Split(bytes.TrimSpace(pdf[xrefAt:xrefAt+t]), []byte("\n"))
	if len(lines) < 3 || string(lines[0]) != "xref" {
		return nil, 0, nil, fmt.Errorf("xref 表が読めません")
	}
	prev := -1
	for _, l := range lines[3:] {
		fs := bytes.Fields(l)
		if len(fs) == 0 {
			return nil, 0, nil, fmt.Errorf("xref に空の行があります")
		}
		o, err := strconv.Atoi(string(fs[0]))
		if err != nil || o <= prev || o >= xrefAt {
			return nil, 0, nil, fmt.Errorf("xref の行 %q が読めません", l)
		}
		offsets = append(offsets, o)
		prev = o
	}
	if len(offsets) == 0 {
		return nil, 0, nil, fmt.Errorf("xref 表が空です")
	}
	return offsets, xrefAt, trailer, nil
}
