package install

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// phases times the step's parts, for one line at its end that says where
// its time went (the installer's own output says nothing of the rest).
type phases struct {
	last  time.Time
	names []string
	took  map[string]time.Duration
}

func newPhases() *phases { return &phases{last: time.Now(), took: map[string]time.Duration{}} }

// done ends the current phase, counting its time under name.
func (p *phases) done(name string) {
	now := time.Now()
	if _, ok := p.took[name]; !ok {
		p.names = append(p.names, name)
	}
	p.took[name] += now.Sub(p.last)
	p.last = now
}

func (p *phases) print(w io.Writer) {
	var parts []string
	for _, n := range p.names {
		parts = append(parts, fmt.Sprintf("%s %.2fs", n, p.took[n].Seconds()))
	}
	fmt.Fprintf(w, "flatpak-frontend: install step: %s\n", strings.Join(parts, ", "))
}
