package main

import (
	"crypto/rand"

	"github.com/gowg/wgtools/internal/conf"
)

func randRead(b []byte) (int, error) { return rand.Read(b) }

func encodeKey(k [32]byte) string { return conf.Key(k).String() }
