package config

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"

	promconfig "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// maxKeyShown is how much of an unknown key a problem quotes: enough to recognise a typo,
// too little to echo a line of a file that is not a config (a shadow file's hash).
const maxKeyShown = 40

// pos is where a key or list item is written; null when its value is empty.
type pos struct {
	line int
	null bool
}

// valueError is a decoding problem worded for the user, without the value.
type valueError string

func (e valueError) Error() string { return string(e) }

// itemNames says what a list item must be, by the list's key, for a null item.
var itemNames = map[string]string{
	"servers":       "a server (a mapping)",
	"sessions":      "a session ID (UUID)",
	"retrieval_ids": "a retrieval ID (UUID)",
	"name_regexps":  "a regular expression (a string)",
}

// decode fills v from n the way yaml would, but walks the node tree itself: a key is checked
// against v's yaml tags (so a field added to the structs is known at once), and every
// problem is reported at its node's line, the decoding going on past it. via is the line of
// the alias or merge key n was reached through (problems under it are reported there), else 0.
func (l *loader) decode(n *yaml.Node, v reflect.Value, path string, via int) {
	if !l.spend(via) {
		return
	}
	for n.Kind == yaml.AliasNode {
		via = cmp.Or(via, n.Line)
		n = n.Alias
	}
	line := cmp.Or(via, n.Line)
	if isNull(n) {
		return // absent, as far as defaults go
	}
	t := v.Type()
	switch {
	case isLeaf(t):
		if n.Kind != yaml.ScalarNode {
			l.add(line, path, "must be "+describe(t))
		} else if err := n.Decode(v.Addr().Interface()); err != nil {
			var ve valueError
			if !errors.As(err, &ve) {
				ve = valueError("must be " + describe(t)) // yaml's own text quotes the value
			}
			l.add(line, path, string(ve))
		}
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		l.decode(n, v.Elem(), path, via)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		l.mapping(n, v, path, via)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		s := reflect.MakeSlice(t, 0, len(n.Content))
		var kept []string
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			l.at[p] = pos{line: cmp.Or(via, item.Line), null: isNull(item)}
			if isNull(item) {
				what := itemNames[path[strings.LastIndexAny(path, ".]")+1:]]
				l.add(cmp.Or(via, item.Line), p, "must be "+cmp.Or(what, describe(t.Elem())))
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			if l.decode(item, e, p, via); !l.failed[p] {
				s = reflect.Append(s, e)
				kept = append(kept, p)
			}
		}
		v.Set(s)
		l.lists[path] = kept
	default:
		if path == "" {
			l.add(line, path, "must be a mapping with a servers key")
		} else {
			l.add(line, path, "must be "+describe(t))
		}
	}
}

// mapping decodes a mapping into a struct. Merged mappings (<<) come first, so that the keys
// written beside them override them, as in YAML.
func (l *loader) mapping(n *yaml.Node, v reflect.Value, path string, via int) {
	if !l.spend(via) {
		return
	}
	if l.open[n] { // a merge key that names its own mapping
		l.add(via, path, "a merge key (<<) must not name the mapping it is in")
		return
	}
	l.open[n] = true
	defer delete(l.open, n)
	names, fields := yamlFields(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.ShortTag() == "!!merge" {
			l.merge(n.Content[i+1], v, path, cmp.Or(via, k.Line))
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		line := cmp.Or(via, k.Line)
		index, known := fields[k.Value]
		switch {
		case k.ShortTag() == "!!merge":
		case k.Kind != yaml.ScalarNode:
			l.add(line, path, "a key must be a name, not a list or mapping")
		case !known:
			l.problems = append(l.problems, problem{line: line, path: path, key: k.Value, unknown: true,
				msg: "; expected one of: " + strings.Join(names, ", ")})
		case seen[k.Value] > 0:
			l.add(line, join(path, k.Value), "key is repeated (first at line "+strconv.Itoa(seen[k.Value])+")")
		default:
			seen[k.Value] = line
			p := join(path, k.Value)
			l.at[p] = pos{line: line, null: isNull(val)}
			l.decode(val, v.FieldByIndex(index), p, via)
		}
	}
}

// spend counts a node visited, false once the budget is spent: aliases must not make the
// walk expand without end.
func (l *loader) spend(line int) bool {
	if l.budget--; l.budget == -1 {
		l.add(line, "", "too many aliases: the file expands to too much")
	}
	return l.budget >= 0
}

// merge applies a merge key's value: a mapping, or a list of them of which the first wins.
func (l *loader) merge(n *yaml.Node, v reflect.Value, path string, line int) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = slices.Clone(n.Content)
		slices.Reverse(items)
	}
	for _, m := range items {
		for m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			l.add(line, join(path, "<<"), "must be a mapping or a list of mappings")
			return
		}
		l.mapping(m, v, path, line)
	}
}

type fields struct {
	names []string
	index map[string][]int
}

var fieldCache sync.Map // reflect.Type → fields

// yamlFields lists the keys of a struct in declaration order and where each field is,
// following inline structs as yaml does.
func yamlFields(t reflect.Type) (names []string, index map[string][]int) {
	if f, ok := fieldCache.Load(t); ok {
		f := f.(fields)
		return f.names, f.index
	}
	defer func() { fieldCache.Store(t, fields{names, index}) }()
	index = map[string][]int{}
	for _, f := range reflect.VisibleFields(t) {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || f.Anonymous || strings.Contains(opts, "inline") {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if _, dup := index[name]; !dup {
			names = append(names, name)
			index[name] = f.Index
		}
	}
	return names, index
}

var (
	nodeUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
	funcUnmarshaler = reflect.TypeFor[interface{ UnmarshalYAML(func(any) error) error }]()
)

// isLeaf reports whether t is decoded from one scalar: a plain value or a type that decodes
// itself (Duration, promconfig's Secret and TLSVersion).
func isLeaf(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	if p.Implements(nodeUnmarshaler) || p.Implements(funcUnmarshaler) {
		return true
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Struct, reflect.Slice, reflect.Map, reflect.Interface, reflect.Array:
		return false
	}
	return true
}

// describe says what a value of type t is written as, without echoing the value.
func describe(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return "a duration such as 30s, 5m or 1h"
	case reflect.TypeFor[promconfig.TLSVersion]():
		versions := make([]string, 0, len(promconfig.TLSVersions))
		for v := range promconfig.TLSVersions {
			versions = append(versions, v)
		}
		slices.Sort(versions)
		return "one of " + strings.Join(versions, ", ")
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "a mapping"
	}
	return "a string"
}

// showKey quotes an unknown key, cut to maxKeyShown characters, or returns "" when it is not
// a plain name: a key made of other characters is more likely a line of a file that is not
// a config, or a secret, than a typo.
func showKey(k string) string {
	plain := func(r rune) bool {
		return r == '_' || r == '-' || r == ' ' || unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	if k == "" || strings.IndexFunc(k, func(r rune) bool { return !plain(r) }) >= 0 {
		return ""
	}
	if r := []rune(k); len(r) > maxKeyShown {
		return strconv.Quote(string(r[:maxKeyShown])) + "…"
	}
	return strconv.Quote(k)
}

func isNull(n *yaml.Node) bool {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n.Kind == 0 || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// countNodes counts the nodes written in the file, aliases not followed.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, child := range n.Content {
		c += countNodes(child)
	}
	return c
}

func join(path, key string) string { return strings.TrimPrefix(path+"."+key, ".") }
