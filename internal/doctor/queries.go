package doctor

// Queries are the route lookups the checks need answered for s (the
// reader asks the kernel each of them once): the route to each peer's
// endpoint with the interface's fwmark (the route WireGuard's own packets
// take), one address of each allowed IP, each --to target, and for each
// flow the watch saw, its forwarding decision, the route to its
// destination and the route back to its source.
func Queries(s *State) []Query {
	var out []Query
	seen := map[Query]bool{}
	add := func(q Query) {
		if q.Dst.IsValid() && !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	var mark uint32
	if s.Dev != nil {
		mark = s.Dev.FwMark
	}
	if s.File != nil {
		for _, pp := range s.peers() {
			if ep := pp.endpoint(); ep.IsValid() {
				add(Query{Dst: ep.Addr().Unmap(), Mark: mark})
			}
			for _, p := range allowed(pp.file) {
				if p.Bits() > 0 {
					add(Query{Dst: probe(p)})
				}
			}
		}
	}
	for _, t := range s.Targets {
		add(Query{Dst: probe(t)})
	}
	if s.Watch != nil {
		for _, f := range s.Watch.Flows {
			add(Query{Dst: f.Dst, Src: f.Src, Iif: s.Iface})
			add(Query{Dst: f.Dst})
			add(Query{Dst: f.Src})
		}
	}
	return out
}
