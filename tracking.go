package shikaku

import (
	"fmt"
	"strconv"
	"strings"
)

// TrackingNumber is a 特定記録 お問い合わせ番号: a 10-digit body and a check
// digit that is the body modulo 7, 11 digits in all.
type TrackingNumber uint64

// NewTrackingNumber appends the check digit to a 10-digit body.
func NewTrackingNumber(body uint64) TrackingNumber {
	return TrackingNumber(body*10 + body%7)
}

// Body is the number without its check digit.
func (t TrackingNumber) Body() uint64 { return uint64(t) / 10 }

// String is the 11 digits without hyphens, as export files carry them.
func (t TrackingNumber) String() string { return fmt.Sprintf("%011d", uint64(t)) }

// Printed is the form on labels and documents: XXX-XX-XXXXX-X.
func (t TrackingNumber) Printed() string {
	s := t.String()
	return s[0:3] + "-" + s[3:5] + "-" + s[5:10] + "-" + s[10:]
}

// Valid reports whether the check digit matches the body.
func (t TrackingNumber) Valid() bool {
	return uint64(t) < 1e11 && uint64(t)%10 == t.Body()%7
}

// ParseTrackingNumber reads 11 digits, hyphens optional, and verifies the
// check digit.
func ParseTrackingNumber(s string) (TrackingNumber, error) {
	clean := strings.ReplaceAll(strings.TrimSpace(s), "-", "")
	if len(clean) != 11 || !digits(clean, 11, 11) {
		return 0, fmt.Errorf("お問い合わせ番号 %q は11桁の数字ではありません", s)
	}
	n, _ := strconv.ParseUint(clean, 10, 64)
	t := TrackingNumber(n)
	if !t.Valid() {
		return 0, fmt.Errorf("お問い合わせ番号 %q のチェックデジットが正しくありません（読み取り誤りの可能性があります）", s)
	}
	return t, nil
}

// TrackingRange is a block of bodies handed to the insurer by the post
// office: First through Last, inclusive.
type TrackingRange struct {
	First, Last uint64
}

func (r TrackingRange) valid() bool { return r.First <= r.Last && r.Last < 1e10 }

func (r TrackingRange) validate() error {
	if r.Last >= 1e10 {
		return fmt.Errorf("終わりの番号 %d が10桁を超えています", r.Last)
	}
	if r.First > r.Last {
		return fmt.Errorf("範囲が逆です（始め %010d > 終わり %010d）", r.First, r.Last)
	}
	return nil
}

// ParseTrackingBody reads one 10-digit range bound as the settings write it.
func ParseTrackingBody(s string) (uint64, error) {
	if !digits(s, 10, 10) {
		return 0, fmt.Errorf("%q は10桁の数字ではありません", s)
	}
	return strconv.ParseUint(s, 10, 64)
}

// TrackingRanges are a campaign's ranges, used in order.
type TrackingRanges []TrackingRange

// Capacity is how many numbers the ranges hold.
func (rs TrackingRanges) Capacity() uint64 {
	var n uint64
	for _, r := range rs {
		n += r.Last - r.First + 1
	}
	return n
}

// Nth is the number at position i (0-based) of the ranges. Numbers are
// handed out by position, and the store keeps how many positions are used,
// so a number is never given twice.
func (rs TrackingRanges) Nth(i uint64) (TrackingNumber, bool) {
	for _, r := range rs {
		size := r.Last - r.First + 1
		if i < size {
			return NewTrackingNumber(r.First + i), true
		}
		i -= size
	}
	return 0, false
}

// TrackingAllocator hands out numbers in order from a position that the
// store persists in the same transaction as the envelopes that use them.
type TrackingAllocator struct {
	Ranges TrackingRanges
	Used   uint64 // positions used so far
}

// Reserve checks that n more numbers are available, before any is used.
func (a *TrackingAllocator) Reserve(n uint64) error {
	if left := a.Ranges.Capacity() - a.Used; n > left {
		return fmt.Errorf("特定記録のお問い合わせ番号が足りません: 必要 %d 件、残り %d 件。キャンペーン設定の [mail] tracking_ranges に番号の範囲を追加してください", n, left)
	}
	return nil
}

// Next hands out the next number.
func (a *TrackingAllocator) Next() (TrackingNumber, error) {
	t, ok := a.Ranges.Nth(a.Used)
	if !ok {
		return 0, a.Reserve(1)
	}
	a.Used++
	return t, nil
}
