// Package domtest reads parsed HTML the way the page tests need: find elements, and the text
// a reader sees. It is shared by the landing package's tests and the exporter's page tests.
package domtest

import (
	"strings"

	"golang.org/x/net/html"
)

// All returns the nodes under n (n included) that match, in document order.
func All(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// Tag matches elements named tag.
func Tag(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

// HasClass reports whether n's class attribute lists class.
func HasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && strings.Contains(" "+a.Val+" ", " "+class+" ") {
			return true
		}
	}
	return false
}

// Class matches elements whose class attribute lists class.
func Class(class string) func(*html.Node) bool {
	return func(n *html.Node) bool { return HasClass(n, class) }
}

// Attr is n's attribute key, or "".
func Attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// Text is what a reader sees of n: its text without style sheet and title, with a space
// where elements meet (a line break or table cell separates words on screen too).
func Text(n *html.Node) string {
	var parts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "title") {
			return
		}
		if n.Type == html.TextNode {
			parts = append(parts, n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}
