package reports

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Files written by WriteDir, relative to the directory.
const (
	ResultFile = "result.json"
	TraceJSON  = "trace.json"
	TraceText  = "trace.txt"
	HTMLFile   = "index.html"
	JUnitFile  = "junit.xml"
	TimingFile = "timing.json"
	ReplayDir  = "replays"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so a reader (or a Ctrl-C) never sees half a file.
func WriteFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := firstErr(werr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// FileSafe makes s usable in a file name: letters, digits, '-', '_' and
// '.' stay, anything else becomes '_'. simrun and wbsimtest name replay
// files with it.
func FileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// WriteReplayFile writes a replay file atomically (the temporary name ends
// in .replay.tmp, which .gitignore knows).
func WriteReplayFile(path string, f *ReplayFile) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.replay.tmp")
	if err != nil {
		return err
	}
	_, werr := io.WriteString(tmp, f.Format())
	cerr := tmp.Close()
	if err := firstErr(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// Render produces every report file's content, by name.
func Render(rep *Report) (map[string][]byte, error) {
	files := map[string][]byte{}
	b, err := MarshalResult(rep.Result)
	if err != nil {
		return nil, err
	}
	files[ResultFile] = b
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, rep.Result); err != nil {
		return nil, err
	}
	files[JUnitFile] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := WriteTraceJSON(&buf, rep.Runs); err != nil {
		return nil, err
	}
	files[TraceJSON] = bytes.Clone(buf.Bytes())
	buf.Reset()
	for i, r := range rep.Runs {
		if i > 0 {
			buf.WriteString("\n\n")
		}
		if err := Narrate(&buf, r, NarrateOptions{}); err != nil {
			return nil, err
		}
	}
	if len(rep.Runs) == 0 {
		buf.WriteString("No run was captured.\n")
	}
	files[TraceText] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := WriteHTML(&buf, rep); err != nil {
		return nil, err
	}
	files[HTMLFile] = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := WriteExplorer(&buf, rep); err != nil {
		return nil, err
	}
	files[ExplorerFile] = bytes.Clone(buf.Bytes())
	if rep.Timing != nil {
		buf.Reset()
		if err := writeJSON(&buf, rep.Timing); err != nil {
			return nil, err
		}
		files[TimingFile] = bytes.Clone(buf.Bytes())
	}
	return files, nil
}

// WriteDir writes the report files into dir (created if needed), each
// atomically, and returns the path of index.html.
func WriteDir(dir string, rep *Report) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files, err := Render(rep)
	if err != nil {
		return "", err
	}
	for _, name := range []string{ResultFile, JUnitFile, TraceJSON, TraceText, TimingFile, ExplorerFile, HTMLFile} {
		data, ok := files[name]
		if !ok {
			continue
		}
		if err := WriteFileAtomic(filepath.Join(dir, name), data); err != nil {
			return "", fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return filepath.Join(dir, HTMLFile), nil
}
