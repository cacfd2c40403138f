package buildstep

import (
	"bytes"
	"fmt"
	"strings"
)

// A report is a sequence of records. A record is a tag and a fixed number
// of fields for that tag, each written followed by a NUL byte:
//
//	TAG\0FIELD1\0...FIELDn\0
//
// Nothing a report carries (file names, package names, messages) can hold
// a NUL, so no escaping is needed and any other byte passes through.

// recordFields is how many fields each tag has.
var recordFields = map[string]int{
	tagPackage:    7,
	tagFile:       10,
	tagMissing:    1,
	tagUnresolved: 2,
	tagOutside:    2,
	tagConflict:   4,
	tagUpdated:    2,
	tagExcluded:   1,
	tagLost:       3,
	tagUnverified: 3,
	tagKey:        1,
	tagUnset:      1,
	tagUnread:     3,
	tagStatus:     1,
	tagError:      1,
	tagEntry:      3,
	tagChanged:    3,
	tagNotice:     1,
	tagVerified:   7,
	tagDownloaded: 3,
	tagFailed:     2,
}

const (
	tagPackage    = "package"
	tagFile       = "file"
	tagMissing    = "missing"
	tagUnresolved = "unresolved"
	tagOutside    = "outside"
	tagConflict   = "conflict"
	tagUpdated    = "updated"
	tagExcluded   = "excluded"
	tagLost       = "lost"
	tagUnverified = "unverified"
	tagKey        = "key"
	tagUnset      = "unset"
	tagUnread     = "unread"
	tagStatus     = "status"
	tagError      = "error"
	tagEntry      = "entry"
	tagChanged    = "changed"
	tagNotice     = "notice"
	tagVerified   = "verified"
	tagDownloaded = "downloaded"
	tagFailed     = "failed"
)

// recordWriter writes records.
type recordWriter struct {
	buf bytes.Buffer
}

func (w *recordWriter) record(tag string, fields ...string) {
	if n, ok := recordFields[tag]; !ok || n != len(fields) {
		panic(fmt.Sprintf("buildstep: record %q with %d fields", tag, len(fields)))
	}
	w.field(tag)
	for _, f := range fields {
		w.field(f)
	}
}

func (w *recordWriter) field(s string) {
	// A NUL cannot occur in what reports carry; drop one rather than
	// shift every field after it.
	w.buf.WriteString(strings.ReplaceAll(s, "\x00", ""))
	w.buf.WriteByte(0)
}

// readRecords splits a report into records, calling fn with each one's
// tag and fields.
func readRecords(name string, data []byte, fn func(tag string, f []string) error) error {
	fields := strings.Split(string(data), "\x00")
	if len(fields) == 0 || fields[len(fields)-1] != "" {
		if len(data) == 0 {
			return nil
		}
		return fmt.Errorf("%s report: truncated (no NUL at its end)", name)
	}
	fields = fields[:len(fields)-1]
	for i := 0; i < len(fields); {
		tag := fields[i]
		n, ok := recordFields[tag]
		if !ok {
			return fmt.Errorf("%s report: unknown record %q", name, tag)
		}
		if i+1+n > len(fields) {
			return fmt.Errorf("%s report: record %q is truncated", name, tag)
		}
		if err := fn(tag, fields[i+1:i+1+n]); err != nil {
			return fmt.Errorf("%s report: %s record: %w", name, tag, err)
		}
		i += 1 + n
	}
	return nil
}
