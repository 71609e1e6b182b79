package main

import (
	"golang.org/x/text/encoding/japanese"
)

func encodeCP932(s string) ([]byte, error) {
	return japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
}
