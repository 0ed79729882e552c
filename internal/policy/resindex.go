package policy

import "slices"

// candList is the candidate statements for one action. Long lists also
// carry a trie of the literal prefixes of their Resource patterns so that a
// request only visits statements whose resources can match it; this keeps
// 1,000 statements over one service (say s3:Get* on 1,000 buckets) from
// costing 1,000 resource matches.
type candList struct {
	c      []cand
	always []int32 // positions in c evaluated whatever the resource
	trie   []trieNode
}

type trieNode struct {
	edges []byte  // sorted
	kids  []int32 // node index per edge
	hits  []int32 // positions in c whose prefix ends here
}

// minTrie is the list length from which a resource trie pays for itself.
const minTrie = 16

func (s *Set) newCandList(c []cand) *candList {
	cl := &candList{c: c}
	if len(c) < minTrie {
		return cl
	}
	cl.trie = []trieNode{{}}
	for pos, cd := range c {
		st := s.stmts[cd.idx].c
		if st.anyResource || st.notResource || len(st.resources) == 0 {
			cl.always = append(cl.always, int32(pos))
			continue
		}
		empty := false
		for i := range st.resources {
			if st.resources[i].prefix == "" {
				empty = true
				break
			}
		}
		if empty {
			cl.always = append(cl.always, int32(pos))
			continue
		}
		for i := range st.resources {
			cl.insert(st.resources[i].prefix, int32(pos))
		}
	}
	return cl
}

func (cl *candList) insert(prefix string, pos int32) {
	n := int32(0)
	for i := 0; i < len(prefix); i++ {
		b := prefix[i]
		node := &cl.trie[n]
		j, found := slices.BinarySearch(node.edges, b)
		if found {
			n = node.kids[j]
			continue
		}
		cl.trie = append(cl.trie, trieNode{})
		child := int32(len(cl.trie) - 1)
		node = &cl.trie[n] // append may have moved the nodes
		node.edges = slices.Insert(node.edges, j, b)
		node.kids = slices.Insert(node.kids, j, child)
		n = child
	}
	cl.trie[n].hits = append(cl.trie[n].hits, pos)
}

// pick returns the positions in cl.c to evaluate for resource, sorted
// (so decisions list statements in order), possibly with duplicates.
func (cl *candList) pick(resource string, sc *evalScratch) []int32 {
	sc.pos = sc.pos[:0]
	if cl.trie == nil {
		for i := range cl.c {
			sc.pos = append(sc.pos, int32(i))
		}
		return sc.pos
	}
	sc.pos = append(sc.pos, cl.always...)
	n := int32(0)
	for i := 0; i < len(resource); i++ {
		node := &cl.trie[n]
		j, found := slices.BinarySearch(node.edges, resource[i])
		if !found {
			break
		}
		n = node.kids[j]
		sc.pos = append(sc.pos, cl.trie[n].hits...)
	}
	slices.Sort(sc.pos)
	return sc.pos
}
