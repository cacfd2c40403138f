package spec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flatpak-frontend/flatpak-frontend/internal/suggest"
	"gopkg.in/yaml.v3"
)

// Build arguments work like Dockerfile ARG: args declares them with
// defaults, --build-arg overrides them, and string values use them as
// ${NAME}, ${NAME:-word} (word when NAME is empty), ${NAME:+word} (word when
// NAME is not empty). $$ is a literal $; a $ not followed by { or $ is kept
// as written. cleanup-commands is not expanded: it is a shell script and
// gets the build arguments as environment variables.

type expandError struct {
	off, end int // span of the ${...} in the input
	msg      string
}

// expandArgs expands s with the declared arguments in args.
func expandArgs(s string, args map[string]string) (string, []expandError) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	var errs []expandError
	expandInto(&b, s, 0, args, &errs, 0)
	return b.String(), errs
}

func expandInto(b *strings.Builder, s string, base int, args map[string]string, errs *[]expandError, depth int) {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte(c)
			i++
			continue
		}
		// ${...}: find the matching brace.
		j, nest := i+2, 1
		for ; j < len(s); j++ {
			if s[j] == '$' && j+1 < len(s) && s[j+1] == '$' {
				j++
			} else if s[j] == '$' && j+1 < len(s) && s[j+1] == '{' {
				nest++
				j++
			} else if s[j] == '}' {
				nest--
				if nest == 0 {
					break
				}
			}
		}
		if j >= len(s) {
			*errs = append(*errs, expandError{base + i, base + len(s), "unterminated ${ (write $$ for a literal $)"})
			return
		}
		inner := s[i+2 : j]
		name, op, word := inner, "", ""
		for k := 0; k < len(inner); k++ {
			if inner[k] == ':' {
				name, op, word = inner[:k], inner[k:min(k+2, len(inner))], inner[min(k+2, len(inner)):]
				break
			}
		}
		switch {
		case !isArgName(name):
			*errs = append(*errs, expandError{base + i, base + j + 1, fmt.Sprintf("bad substitution ${%s}: expected ${NAME}, ${NAME:-default} or ${NAME:+alternative}", inner)})
		case op != "" && op != ":-" && op != ":+":
			*errs = append(*errs, expandError{base + i, base + j + 1, fmt.Sprintf("bad substitution ${%s}: only :- and :+ are supported", inner)})
		default:
			val, ok := args[name]
			if !ok {
				msg := fmt.Sprintf("build argument %s is not declared; add it under args (args: {%s: default})", name, name)
				if dnfVars[name] {
					msg = fmt.Sprintf("${%s} is a build argument here, and none is declared; for dnf's variable write $%s, or $${%s}", name, name, name)
				}
				if sg := suggest.Closest(name, sortedKeys(args)); sg != "" {
					msg += fmt.Sprintf(", or did you mean %s?", sg)
				}
				*errs = append(*errs, expandError{base + i, base + j + 1, msg})
				break
			}
			wordBase := base + i + 2 + len(name) + len(op)
			switch {
			case op == ":-" && val == "", op == ":+" && val != "":
				if depth < 10 {
					expandInto(b, word, wordBase, args, errs, depth+1)
				}
			case op == ":+":
			default:
				b.WriteString(val)
			}
		}
		i = j + 1
	}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// expand expands the build arguments in s, the value of scalar n, and
// reports errors at their place in the file.
func (p *parser) expand(n *yaml.Node, s string, path []any) string {
	out, errs := expandArgs(s, p.args)
	cursor := p.contentStart(n)
	for _, e := range errs {
		r := p.find(n, s[e.off:e.end], &cursor)
		p.errorAt(r, "%s%s", prefix(path), e.msg)
	}
	return out
}

// expandAt is expand for a piece of a scalar whose range is known.
func (p *parser) expandAt(r Range, s string, path []any) string {
	out, errs := expandArgs(s, p.args)
	for _, e := range errs {
		p.errorAt(r, "%s%s", prefix(path), e.msg)
	}
	return out
}

// UndeclaredBuildArgs returns the names in opts.BuildArgs that the spec does
// not declare under args (they are ignored; a frontend may warn about them).
func (s *Spec) UndeclaredBuildArgs(opts Options) []string {
	var out []string
	for k := range opts.BuildArgs {
		if _, ok := s.Args[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// dnfVars are the variables dnf expands in a repo's URLs, which a spec
// value written ${NAME} would take for build arguments.
var dnfVars = map[string]bool{"arch": true, "basearch": true, "releasever": true, "releasever_major": true, "releasever_minor": true}
