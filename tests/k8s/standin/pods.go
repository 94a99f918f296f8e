package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Pods, for service registration (a vault labelling its own pod):
//
//	GET   /api/v1/namespaces/<ns>/pods/<name>   the pod, or 404 Status
//	PATCH /api/v1/namespaces/<ns>/pods/<name>   JSON Patch (application/json-patch+json) of
//	                                             /metadata/labels and /metadata/labels/<key>:
//	                                             add, replace, remove, test; all or nothing
//
// and the control API:
//
//	POST /control/pods {namespace, name[, labels]}  create or recreate (labels null: none at all)
//	GET  /control/pods/<ns>/<name> -> {"labels": .., "patches": n}  n: patches applied
//	POST /control/outage {"on": bool}  while on, every API connection is closed unanswered
//	                                    (an API server that is down); control calls still work

type pod struct {
	uid, created    string
	labels          map[string]string // nil: the pod has no labels object
	resourceVersion int
	patches         int
}

type podKey struct{ ns, name string }

func podPath(parts []string) (podKey, bool) {
	if len(parts) == 6 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" && parts[4] == "pods" {
		return podKey{parts[3], parts[5]}, true
	}
	return podKey{}, false
}

func podNotFound(w http.ResponseWriter, name string) {
	writeJSON(w, 404, newStatus(404, "NotFound", fmt.Sprintf("pods %q not found", name),
		&statusDetails{Name: name, Kind: "pods"}))
}

// writePod answers the pod object; called with c.mu held.
func writePod(w http.ResponseWriter, k podKey, p *pod) {
	type meta struct {
		Name              string            `json:"name"`
		Namespace         string            `json:"namespace"`
		UID               string            `json:"uid"`
		ResourceVersion   string            `json:"resourceVersion"`
		CreationTimestamp string            `json:"creationTimestamp"`
		Labels            map[string]string `json:"labels,omitempty"`
	}
	writeJSON(w, 200, map[string]interface{}{
		"kind": "Pod", "apiVersion": "v1",
		"metadata": meta{k.name, k.ns, p.uid, strconv.Itoa(p.resourceVersion), p.created, p.labels},
		"spec":     map[string]interface{}{"containers": []interface{}{}},
		"status":   map[string]string{"phase": "Running"},
	})
}

func (s *server) getPod(w http.ResponseWriter, k podKey) {
	s.c.mu.RLock()
	defer s.c.mu.RUnlock()
	p := s.c.pods[k]
	if p == nil {
		podNotFound(w, k.name)
		return
	}
	writePod(w, k, p)
}

type patchOp struct {
	Op    string           `json:"op"`
	Path  string           `json:"path"`
	Value *json.RawMessage `json:"value"`
}

// applyLabelPatch applies RFC 6902 operations to a copy of the labels.
func applyLabelPatch(labels map[string]string, ops []patchOp) (map[string]string, error) {
	var out map[string]string
	if labels != nil {
		out = map[string]string{}
		for k, v := range labels {
			out[k] = v
		}
	}
	for _, op := range ops {
		if op.Path == "/metadata/labels" {
			if op.Op != "add" && op.Op != "replace" {
				return nil, fmt.Errorf("the stand-in supports only add and replace of /metadata/labels")
			}
			if op.Op == "replace" && out == nil {
				return nil, fmt.Errorf("replace operation does not apply: doc is missing key: /metadata/labels")
			}
			var m map[string]string
			if op.Value == nil || json.Unmarshal(*op.Value, &m) != nil {
				return nil, fmt.Errorf("metadata.labels: Invalid value: expected a map of strings")
			}
			out = m
			continue
		}
		if !strings.HasPrefix(op.Path, "/metadata/labels/") {
			return nil, fmt.Errorf("the stand-in patches only /metadata/labels, not %q", op.Path)
		}
		key := strings.NewReplacer("~1", "/", "~0", "~").Replace(strings.TrimPrefix(op.Path, "/metadata/labels/"))
		if out == nil {
			return nil, fmt.Errorf("%s operation does not apply: doc is missing path: %q", op.Op, op.Path)
		}
		var v string
		if op.Op != "remove" && (op.Value == nil || json.Unmarshal(*op.Value, &v) != nil) {
			return nil, fmt.Errorf("metadata.labels: Invalid value: label values must be strings")
		}
		_, exists := out[key]
		switch op.Op {
		case "add":
			out[key] = v
		case "replace", "remove":
			if !exists {
				return nil, fmt.Errorf("%s operation does not apply: doc is missing key: %s", op.Op, op.Path)
			}
			if op.Op == "remove" {
				delete(out, key)
			} else {
				out[key] = v
			}
		case "test":
			if !exists || out[key] != v {
				return nil, fmt.Errorf("testing value %s failed", op.Path)
			}
		default:
			return nil, fmt.Errorf("unexpected kind: %s", op.Op)
		}
	}
	return out, nil
}

func (s *server) patchPod(w http.ResponseWriter, r *http.Request, k podKey, raw []byte) {
	if ct := strings.TrimSpace(strings.SplitN(r.Header.Get("Content-Type"), ";", 2)[0]); ct != "application/json-patch+json" {
		writeJSON(w, 415, newStatus(415, "UnsupportedMediaType",
			fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: "+
				"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "+
				"application/strategic-merge-patch+json (got %q)", ct), nil))
		return
	}
	var ops []patchOp
	if err := json.Unmarshal(raw, &ops); err != nil {
		badRequest(w, "error decoding patch: "+err.Error())
		return
	}
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	p := s.c.pods[k]
	if p == nil {
		podNotFound(w, k.name)
		return
	}
	labels, err := applyLabelPatch(p.labels, ops)
	if err != nil {
		writeJSON(w, 422, newStatus(422, "Invalid", err.Error(), &statusDetails{Name: k.name, Kind: "pods"}))
		return
	}
	p.labels = labels
	p.resourceVersion++
	p.patches++
	writePod(w, k, p)
}

func (s *server) createPod(w http.ResponseWriter, raw []byte) {
	var b struct {
		Namespace *string           `json:"namespace"`
		Name      *string           `json:"name"`
		Labels    map[string]string `json:"labels"`
	}
	if json.Unmarshal(raw, &b) != nil || b.Namespace == nil || b.Name == nil {
		badRequest(w, "namespace and name are required")
		return
	}
	s.c.mu.Lock()
	s.c.pods[podKey{*b.Namespace, *b.Name}] = &pod{uid: newUUID(), created: nowStamp(), labels: b.Labels,
		resourceVersion: 1}
	if s.c.namespaces[*b.Namespace] == nil {
		s.c.setNamespaceLocked(*b.Namespace, nil)
	}
	s.c.mu.Unlock()
	writeJSON(w, 200, struct{}{})
}

// controlPod answers GET /control/pods/<ns>/<name>.
func (s *server) controlPod(w http.ResponseWriter, parts []string) {
	if len(parts) != 4 {
		notFound(w)
		return
	}
	s.c.mu.RLock()
	defer s.c.mu.RUnlock()
	p := s.c.pods[podKey{parts[2], parts[3]}]
	if p == nil {
		podNotFound(w, parts[3])
		return
	}
	writeJSON(w, 200, map[string]interface{}{"labels": p.labels, "patches": p.patches})
}

func (s *server) setOutage(w http.ResponseWriter, raw []byte) {
	var b struct {
		On bool `json:"on"`
	}
	if json.Unmarshal(raw, &b) != nil {
		badRequest(w, "expected {\"on\": bool}")
		return
	}
	s.c.outage.Store(b.On)
	writeJSON(w, 200, struct{}{})
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
