module github.com/gowg/wgtools

go 1.26.8

require (
	golang.org/x/crypto v0.49.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
