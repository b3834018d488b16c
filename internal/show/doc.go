// Package show formats live device state (a *conf.Device) the way
// wireguard-tools' `wg show` prints it: the pretty form with its colours,
// hidden keys, handshake ages in words and transfer units; the per-field
// forms (`wg show IFACE peers`, ...); and `dump`. Every function writes to a
// *bufio.Writer and formats with append-style helpers, so printing
// thousands of peers costs no allocation per field.
//
// It is pure: the time ("now"), the colour choice and the key masking come
// from Style, never from the environment.
package show
