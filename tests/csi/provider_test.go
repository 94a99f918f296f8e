package csi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// object is one entry of a SecretProviderClass's `objects` parameter.
type object struct {
	ObjectName string `json:"objectName"`
	SecretPath string `json:"secretPath"`
	SecretKey  string `json:"secretKey,omitempty"`
	Method     string `json:"method,omitempty"`
	Encoding   string `json:"encoding,omitempty"`
}

// provider is the providers' Vault side for one pod: one client (cached
// across Mounts with its token, as the providers cache it per pod), Kubernetes
// login with the pod's token on demand, and one re-login after a 403.
type provider struct {
	c       *Client
	mount   string // vaultKubernetesMountPath
	role    string // roleName
	jwt     string // from csi.storage.k8s.io/serviceAccount.tokens, for the audience
	logins  int
	hmacKey []byte // the providers keep theirs in a Kubernetes Secret
}

func newProvider(t testing.TB, jwt string, requests *int) *provider {
	return &provider{c: newClient(t, requests), mount: "k8s", role: "web", jwt: jwt,
		hmacKey: []byte("sealbox-csi-test-hmac-key-32-byt")}
}

// login replaces the client's token unless it already holds one other than
// failedToken, as the providers serialise their re-authentication; it says
// whether it logged in.
func (p *provider) login(ctx context.Context, failedToken string) (bool, error) {
	if tok := p.c.Token(); tok != "" && tok != failedToken {
		return false, nil
	}
	req := p.c.NewRequest(http.MethodPost, "/v1/auth/"+p.mount+"/login")
	if err := req.SetJSONBody(map[string]string{"jwt": p.jwt, "role": p.role}); err != nil {
		return false, err
	}
	resp, err := p.c.RawRequestWithContext(ctx, req)
	if err != nil {
		return false, fmt.Errorf("failed to login: %w", err)
	}
	defer resp.Body.Close()
	secret, err := ParseSecret(resp.Body)
	if err != nil {
		return false, err
	}
	if secret == nil || secret.Auth == nil {
		return false, errors.New("login answered without auth") // the providers would dereference nil here
	}
	p.c.SetToken(secret.Auth.ClientToken)
	p.logins++
	return true, nil
}

// request reads one object's secretPath: the query split off into
// parameters, GET unless `method` says otherwise, one retry after a 403
// (see reloginAfterFreshLogin).
func (p *provider) request(ctx context.Context, o object) (*Secret, error) {
	fresh, err := p.login(ctx, "")
	if err != nil {
		return nil, err
	}
	path, query, _ := strings.Cut(strings.TrimPrefix(o.SecretPath, "/"), "?")
	method := http.MethodGet
	if o.Method != "" {
		method = o.Method
	}
	req := p.c.NewRequest(method, "/v1/"+path)
	if query != "" {
		params, err := url.ParseQuery(query)
		if err != nil {
			return nil, err
		}
		req.Params = params
	}
	for attempt := 0; ; attempt++ {
		resp, err := p.c.RawRequestWithContext(ctx, req)
		var re *ResponseError
		if err != nil {
			if attempt == 0 && errors.As(err, &re) && re.StatusCode == http.StatusForbidden &&
				(reloginAfterFreshLogin || !fresh) {
				if _, err := p.login(ctx, req.ClientToken); err != nil {
					return nil, err
				}
				req.ClientToken = p.c.Token()
				continue
			}
			return nil, err
		}
		defer resp.Body.Close()
		return ParseSecret(resp.Body)
	}
}

// mountResult is what a Mount answers: the files and their object versions.
type mountResult struct {
	files    map[string][]byte
	versions map[string]string
}

// mountObjects is one Mount: each (secretPath, method) read once, then each
// object's file: the whole response as JSON without secretKey, else the key
// from data.data (KV v2) or data, decoded per `encoding`.
func (p *provider) mountObjects(ctx context.Context, objects []object) (mountResult, error) {
	res := mountResult{files: map[string][]byte{}, versions: map[string]string{}}
	read := map[[2]string]*Secret{}
	for _, o := range objects {
		key := [2]string{o.SecretPath, o.Method}
		if read[key] == nil {
			s, err := p.request(ctx, o)
			if err != nil {
				return res, fmt.Errorf("couldn't read secret %q: %w", o.ObjectName, err)
			}
			if s == nil || s.Data == nil {
				return res, fmt.Errorf("empty response from %q", o.SecretPath)
			}
			read[key] = s
		}
		content, err := objectContent(read[key], o)
		if err != nil {
			return res, fmt.Errorf("%s: %w", o.ObjectName, err)
		}
		res.files[o.ObjectName] = content
		res.versions[o.ObjectName] = p.objectVersion(o, content)
	}
	return res, nil
}

func objectContent(s *Secret, o object) ([]byte, error) {
	if o.SecretKey == "" {
		return json.Marshal(s)
	}
	data, ok := s.Data["data"].(map[string]interface{})
	if !ok {
		data = s.Data
	}
	v, ok := data[o.SecretKey]
	if !ok {
		return nil, fmt.Errorf("key %q does not exist at the secret path", o.SecretKey)
	}
	raw, ok := v.(string)
	if !ok {
		return json.Marshal(v)
	}
	switch strings.ToLower(o.Encoding) {
	case "", "utf-8":
		return []byte(raw), nil
	case "base64":
		return base64.StdEncoding.DecodeString(raw)
	case "hex":
		return hex.DecodeString(raw)
	}
	return nil, fmt.Errorf("invalid encoding %q", o.Encoding)
}

// objectVersion is the providers' version: an HMAC of the object's
// configuration and its content, so it changes exactly when the content does.
func (p *provider) objectVersion(o object, content []byte) string {
	cfg, _ := json.Marshal(o)
	h := hmac.New(sha256.New, p.hmacKey)
	h.Write(cfg)
	h.Write(content)
	return base64.URLEncoding.EncodeToString(h.Sum(nil))
}

// countingTransport counts the HTTP requests a client sends.
type countingTransport struct {
	next  http.RoundTripper
	count *int
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	*c.count++
	return c.next.RoundTrip(r)
}
