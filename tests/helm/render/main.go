// render: the part of `helm template` the Sealbox chart uses, on the engine
// Helm itself is built on (text/template + sprig), so the chart can be tested
// on a machine without helm and without network (Debian's Go packages only).
//
//	render -chart DIR [-values FILE]... [-name RELEASE] [-namespace NS] [-notes]
//
// Prints every rendered manifest as a YAML stream, one document per object
// with a "# Source:" comment as helm does; -notes prints NOTES.txt instead.
// A template error (required, fail, a parse error) exits 1 with the message.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"gopkg.in/yaml.v3"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

// apiVersions answers .Capabilities.APIVersions.Has as helm template does
// without a cluster: the built-in groups only.
type apiVersions []string

// chartFiles answers .Files.Get as Helm does: a file of the chart by its
// path relative to the chart directory, "" when missing.
type chartFiles struct{ dir string }

func (f chartFiles) Get(name string) string {
	b, err := os.ReadFile(filepath.Join(f.dir, filepath.FromSlash(name)))
	if err != nil {
		return ""
	}
	return string(b)
}

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "render: "+format+"\n", args...)
	os.Exit(1)
}

func readYAML(file string) map[string]interface{} {
	data, err := os.ReadFile(file)
	if err != nil {
		fail("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		fail("%s: %v", file, err)
	}
	if out == nil { // an empty or comment-only file
		out = map[string]interface{}{}
	}
	return out
}

// coalesce overlays user values on the chart's as Helm does: maps merge key
// by key, anything else replaces, and a null removes the default.
func coalesce(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sv, ok := v.(map[string]interface{}); ok {
			if dv, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = coalesce(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// toYAML is Helm's toYaml: block style, no trailing newline, "" on error.
func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	_ = enc.Close()
	return strings.TrimSuffix(buf.String(), "\n")
}

// Helm reports parse failures of fromYaml/fromJson in an "Error" key instead
// of aborting the render.
func fromYAML(s string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &out); err != nil {
		out["Error"] = err.Error()
	}
	return out
}

func fromYAMLArray(s string) []interface{} {
	var out []interface{}
	if err := yaml.Unmarshal([]byte(s), &out); err != nil {
		out = []interface{}{err.Error()}
	}
	return out
}

func toJSON(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func fromJSON(s string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		out["Error"] = err.Error()
	}
	return out
}

// Documents are separated the way Helm's releaseutil.SplitManifests sees them.
var docSep = regexp.MustCompile(`(?m)^---[ \t]*(?:#.*)?$`)

// meaningful: a document with more than comments and blank lines.
func meaningful(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

func main() {
	var valueFiles fileList
	chartDir := flag.String("chart", "", "chart directory")
	flag.Var(&valueFiles, "values", "values file merged over values.yaml (repeatable, later wins)")
	name := flag.String("name", "sealbox", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	flag.Parse()
	if *chartDir == "" {
		fail("-chart is required")
	}

	chart := readYAML(filepath.Join(*chartDir, "Chart.yaml"))
	if chart["apiVersion"] != "v2" {
		fail("Chart.yaml: apiVersion must be v2, got %v", chart["apiVersion"])
	}
	chartName, _ := chart["name"].(string)
	if chartName == "" {
		fail("Chart.yaml: name is required")
	}
	values := readYAML(filepath.Join(*chartDir, "values.yaml"))
	for _, f := range valueFiles {
		values = coalesce(values, readYAML(f))
	}

	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": *name, "Namespace": *namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": chartName, "Version": chart["version"], "AppVersion": chart["appVersion"],
			"Description": chart["description"], "Type": chart["type"],
		},
		"Files": chartFiles{*chartDir},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": "v1.30.0", "GitVersion": "v1.30.0", "Major": "1", "Minor": "30",
			},
			"APIVersions": apiVersions{"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "policy/v1"},
		},
	}

	root := template.New(chartName)
	funcs := sprig.TxtFuncMap()
	// Helm removes these so a render never depends on the caller's shell.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["include"] = func(n string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, n, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["fromYamlArray"] = fromYAMLArray
	funcs["toJson"] = toJSON
	funcs["fromJson"] = fromJSON
	// helm template has no cluster to look into: lookup answers empty.
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	root.Funcs(funcs)

	tdir := filepath.Join(*chartDir, "templates")
	entries, err := os.ReadDir(tdir)
	if err != nil {
		fail("%v", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml") ||
			strings.HasSuffix(n, ".tpl") || n == "NOTES.txt") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(tdir, n))
		if err != nil {
			fail("%v", err)
		}
		// Named as Helm names them, so .Template.Name and
		// include (print .Template.BasePath "/x.yaml") work.
		full := path.Join(chartName, "templates", n)
		if _, err := root.New(full).Parse(string(data)); err != nil {
			fail("%v", err)
		}
		names = append(names, full)
	}
	sort.Strings(names)

	render := func(full string) string {
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": path.Join(chartName, "templates")}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, full, data); err != nil {
			fail("%v", err)
		}
		// Helm renders missing map keys as empty, not "<no value>".
		return strings.ReplaceAll(buf.String(), "<no value>", "")
	}

	var out strings.Builder
	for _, full := range names {
		base := path.Base(full)
		if strings.HasPrefix(base, "_") || strings.HasSuffix(base, ".tpl") {
			continue // partials only define templates
		}
		if base == "NOTES.txt" {
			if *notes {
				out.WriteString(render(full))
			}
			continue
		}
		if *notes {
			render(full) // still fail on a template error
			continue
		}
		for _, doc := range docSep.Split(render(full), -1) {
			if !meaningful(doc) {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", full, strings.Trim(doc, "\n"))
		}
	}
	os.Stdout.WriteString(out.String())
}
