package finishargs

// GLib's GHashTable (2.74, as in Debian 12 and the flatpak 1.14 builds that
// run on it) iterates over its buckets in index order, so the order in which
// flatpak writes hash-table contents (filesystems, persistent, bus names,
// environment, generic policies) depends on the keys' g_str_hash values, the
// table size and the insertion history. ghashOrder replays GLib's open
// addressing with quadratic probing, its resize rules and its in-place
// rehash, for a table that only ever receives inserts (flatpak never removes
// from these tables while building a build-finish context).

// gStrHash is g_str_hash: djb2 over signed chars.
func gStrHash(s string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(s); i++ {
		h = h<<5 + h + uint32(int32(int8(s[i])))
	}
	return h
}

var primeMod = [...]uint32{1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191,
	16381, 32749, 65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593,
	16777213, 33554393, 67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647}

type ghash struct {
	size, mod, mask   uint32
	nnodes, noccupied int
	hashes            []uint32
	keys              []string
}

func newGHash() *ghash {
	t := &ghash{}
	t.setShift(3)
	t.hashes = make([]uint32, t.size)
	t.keys = make([]string, t.size)
	return t
}

func (t *ghash) setShift(shift int) {
	t.size = 1 << shift
	t.mod = primeMod[shift]
	t.mask = t.size - 1
}

func (t *ghash) index(hash uint32) uint32 { return (hash * 11) % t.mod }

func (t *ghash) lookup(key string) (uint32, uint32) {
	hash := gStrHash(key)
	if hash < 2 {
		hash = 2
	}
	i := t.index(hash)
	step := uint32(0)
	for t.hashes[i] != 0 {
		if t.hashes[i] == hash && t.keys[i] == key {
			return i, hash
		}
		step++
		i = (i + step) & t.mask
	}
	return i, hash
}

func (t *ghash) insert(key string) {
	i, hash := t.lookup(key)
	if t.hashes[i] >= 2 {
		return // existing key: the value changes, the position does not
	}
	t.hashes[i] = hash
	t.keys[i] = key
	t.nnodes++
	t.noccupied++
	t.maybeResize()
}

func (t *ghash) maybeResize() {
	size := int(t.size)
	if (size > t.nnodes*4 && size > 1<<3) || size <= t.noccupied+t.noccupied/16 {
		t.resize()
	}
}

func (t *ghash) resize() {
	oldSize := t.size
	n := int(float64(t.nnodes) * 1.333)
	shift := 0
	for ; n != 0; shift++ {
		n >>= 1
	}
	t.setShift(max(shift, 3))
	var bitmap []bool
	if t.size > oldSize {
		t.hashes = append(t.hashes, make([]uint32, t.size-oldSize)...)
		t.keys = append(t.keys, make([]string, t.size-oldSize)...)
		bitmap = make([]bool, t.size)
	} else {
		bitmap = make([]bool, oldSize)
	}
	for i := uint32(0); i < oldSize; i++ {
		nodeHash := t.hashes[i]
		if nodeHash < 2 {
			t.hashes[i] = 0
			continue
		}
		if bitmap[i] {
			continue
		}
		t.hashes[i] = 0
		key := t.keys[i]
		t.keys[i] = ""
		for {
			hv := t.index(nodeHash)
			step := uint32(0)
			for bitmap[hv] {
				step++
				hv = (hv + step) & t.mask
			}
			bitmap[hv] = true
			replaced := t.hashes[hv]
			t.hashes[hv] = nodeHash
			if replaced < 2 {
				t.keys[hv] = key
				break
			}
			nodeHash = replaced
			key, t.keys[hv] = t.keys[hv], key
		}
	}
	if t.size < oldSize {
		t.hashes = t.hashes[:t.size]
		t.keys = t.keys[:t.size]
	}
	t.noccupied = t.nnodes
}

func (t *ghash) order() []string {
	var out []string
	for i, h := range t.hashes {
		if h >= 2 {
			out = append(out, t.keys[i])
		}
	}
	return out
}

// ghashOrder returns keys (distinct, in first-insertion order) in the order
// GLib iterates a GHashTable they were inserted into.
func ghashOrder(keys []string) []string {
	t := newGHash()
	for _, k := range keys {
		t.insert(k)
	}
	return t.order()
}

// buildFinishOrder is the order build-finish writes a table of the parsed
// arguments in: flatpak_context_merge copies the argument context's table,
// in its iteration order, into a fresh table, and that one is saved.
func buildFinishOrder(keys []string) []string {
	return ghashOrder(ghashOrder(keys))
}
