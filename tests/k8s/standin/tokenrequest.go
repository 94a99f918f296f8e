package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// tokenRequestSpec is what a TokenRequest asks for.
type tokenRequestSpec struct {
	Audiences         []string `json:"audiences"`
	ExpirationSeconds *int64   `json:"expirationSeconds"`
}

// tokenRequest answers the TokenRequest subresource
// (POST .../serviceaccounts/<name>/token) as kube-apiserver does: a projected
// token for the account, for the requested audiences (none: the API
// audience), expiring after spec.expirationSeconds (default 3600, at least
// 600). client-go's clientsets send it as protobuf, kubectl as JSON.
func (s *server) tokenRequest(w http.ResponseWriter, r *http.Request, ns, name string, raw []byte) {
	spec, err := parseTokenRequest(r.Header.Get("Content-Type"), raw)
	if err != nil {
		badRequest(w, "the body of the request was in an unknown format: "+err.Error())
		return
	}
	s.c.mu.RLock()
	sa := s.c.accounts[saKey{ns, name}]
	s.c.mu.RUnlock()
	if sa == nil {
		writeJSON(w, 404, newStatus(404, "NotFound", fmt.Sprintf("serviceaccounts %q not found", name),
			&statusDetails{Name: name, Kind: "serviceaccounts"}))
		return
	}
	ttl := int64(3600)
	if spec.ExpirationSeconds != nil {
		ttl = *spec.ExpirationSeconds
	}
	if ttl < 600 {
		badRequest(w, "spec.expirationSeconds: Invalid value: "+strconv.FormatInt(ttl, 10)+
			": may not specify a duration less than 10 minutes")
		return
	}
	if len(spec.Audiences) == 0 {
		spec.Audiences = []string{issuer}
	}
	aud, _ := json.Marshal(spec.Audiences)
	f := float64(ttl)
	tok, err := s.c.mint(mintRequest{Namespace: &ns, Name: &name, Audiences: aud, TTL: &f})
	if err != nil {
		badRequest(w, err.Error())
		return
	}
	spec.ExpirationSeconds = &ttl
	type status struct {
		Token               string `json:"token"`
		ExpirationTimestamp string `json:"expirationTimestamp"`
	}
	writeJSON(w, 201, struct {
		Kind       string            `json:"kind"`
		APIVersion string            `json:"apiVersion"`
		Metadata   map[string]string `json:"metadata"`
		Spec       tokenRequestSpec  `json:"spec"`
		Status     status            `json:"status"`
	}{"TokenRequest", "authentication.k8s.io/v1", map[string]string{"name": name, "namespace": ns,
		"creationTimestamp": nowStamp()}, spec,
		status{tok, time.Now().Add(time.Duration(ttl) * time.Second).UTC().Format(time.RFC3339)}})
}

func parseTokenRequest(contentType string, raw []byte) (tokenRequestSpec, error) {
	var spec tokenRequestSpec
	if !strings.HasPrefix(contentType, "application/vnd.kubernetes.protobuf") {
		var b struct {
			Spec tokenRequestSpec `json:"spec"`
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			if err := json.Unmarshal(raw, &b); err != nil {
				return spec, err
			}
		}
		return b.Spec, nil
	}
	// "k8s\0", then runtime.Unknown{raw = 2: TokenRequest{spec = 2:
	// TokenRequestSpec{audiences = 1, expirationSeconds = 4}}}.
	if !bytes.HasPrefix(raw, []byte("k8s\x00")) {
		return spec, errors.New("no protobuf envelope")
	}
	body := raw[4:]
	for i := 0; i < 2; i++ { // Unknown.raw, then TokenRequest.spec: both field 2
		f, err := protoFields(body)
		if err != nil || len(f.bytes[2]) == 0 {
			return spec, errors.New("no TokenRequest spec")
		}
		body = f.bytes[2][0]
	}
	f, err := protoFields(body)
	if err != nil {
		return spec, err
	}
	for _, a := range f.bytes[1] {
		spec.Audiences = append(spec.Audiences, string(a))
	}
	if v, ok := f.varints[4]; ok {
		n := int64(v)
		spec.ExpirationSeconds = &n
	}
	return spec, nil
}

// fields are a protobuf message's length-delimited and varint fields by number.
type fields struct {
	bytes   map[int][][]byte
	varints map[int]uint64
}

func protoFields(b []byte) (fields, error) {
	f := fields{bytes: map[int][][]byte{}, varints: map[int]uint64{}}
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return f, errors.New("bad protobuf key")
		}
		b = b[n:]
		num := int(key >> 3)
		switch key & 7 {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return f, errors.New("bad protobuf varint")
			}
			f.varints[num], b = v, b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return f, errors.New("bad protobuf length")
			}
			f.bytes[num] = append(f.bytes[num], b[n:n+int(l)])
			b = b[n+int(l):]
		default:
			return f, fmt.Errorf("unexpected protobuf wire type %d", key&7)
		}
	}
	return f, nil
}
