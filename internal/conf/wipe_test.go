package conf

import "testing"

func TestWipe(t *testing.T) {
	const priv = "kG5bG/8p/fVgKHmI2EaudSOvnx7qz1jj4ygEYKPZYH8="
	const psk = "yqIu1+V9Je59NPVR4cjW9FaUZ+hDk9w5pI8ACuBBzlE="
	cfg, err := Parse("x.conf", []byte("[Interface]\nPrivateKey = "+priv+"\n[Peer]\nPublicKey = "+priv+"\nPresharedKey = "+psk+"\n"), &Options{})
	if err != nil {
		t.Fatal(err)
	}
	pub := cfg.Peers[0].PublicKey
	cfg.Wipe()
	if *cfg.Interface.PrivateKey != (Key{}) || *cfg.Peers[0].PresharedKey != (Key{}) || cfg.Peers[0].PublicKey != pub {
		t.Errorf("after Wipe: %+v", cfg)
	}
	k, _ := ParseKey(priv)
	dev := &Device{PrivateKey: k, PublicKey: k.PublicKey(), Peers: []DevicePeer{{PublicKey: pub, PresharedKey: k}}}
	dev.Wipe()
	if dev.PrivateKey != (Key{}) || dev.Peers[0].PresharedKey != (Key{}) || dev.PublicKey == (Key{}) || dev.Peers[0].PublicKey != pub {
		t.Errorf("after Wipe: %+v", dev)
	}
	(*Config)(nil).Wipe()
	(*Device)(nil).Wipe()
}
