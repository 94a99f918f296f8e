// k8s-standin: a faithful stand-in for the parts of kube-apiserver that
// Kubernetes auth uses: the TokenReview API, namespaces and service accounts.
//
// It runs as its own process over HTTPS (HTTP/1.1, keep-alive, every
// connection served concurrently) with its own CA on loopback, holds an RSA
// and an ECDSA signing key, mints projected (bound) and legacy Secret-based
// ServiceAccount tokens, and answers as kube-apiserver does (contract:
// kv-database-leases-kubernetes.md §6; the behaviour follows kube-apiserver's
// pkg/registry/authentication/tokenreview/storage.go and
// pkg/serviceaccount/{jwt,claims,legacy}.go):
//
//	POST /apis/authentication.k8s.io/v1/tokenreviews   201 with status.user or status.error;
//	                                                   400 (no token / bad body), 401 / 403 Status objects
//	GET  /api/v1/namespaces/<ns>                       namespace with labels, or 404 Status
//	GET  /api/v1/namespaces/<ns>/serviceaccounts/<sa>  service account, or 404 Status
//	GET, PATCH /api/v1/namespaces/<ns>/pods/<name>     pods and their labels (pods.go)
//
// The caller of those is authenticated and authorised as kube-apiserver does
// it: a token registered as a reviewer is allowed (system:auth-delegator) or
// denied (403); any other valid ServiceAccount token for the API audience is
// authenticated but not authorised (403); an invalid bearer is 401; no
// Authorization header at all is system:anonymous (403).
//
// A control API (bearer = the control token printed at start) lets tests
// shape the cluster:
//
//	POST   /control/serviceaccounts {namespace, name[, annotations]}  create or recreate with a new UID -> {"uid":..}
//	DELETE /control/serviceaccounts/<ns>/<name>
//	POST   /control/namespaces {name, labels}
//	POST   /control/token {namespace, name, alg: RS256|PS256|ES256, audiences, ttl, legacy, not_before_offset} -> {"token":..}
//	POST   /control/reviewers {token, allowed[, resources]}  resources: the only resources an allowed
//	       reviewer may use ("tokenreviews", "namespaces", "serviceaccounts", "pods"); absent = all. A reviewer
//	       bound to system:auth-delegator alone is {"resources": ["tokenreviews"]}: its GETs are 403.
//	POST   /control/rotate  a new RSA signing key; the old one stays published and accepted -> {"kid":..}
//	GET    /control/stats -> {"reviews": n, "jwks_fetches": n}
//
// and, to anyone, the service-account issuer's OIDC discovery:
//
//	GET  /.well-known/openid-configuration  {issuer, jwks_uri, ...}
//	GET  /openid/v1/jwks                    every accepted public key (RS256, ES256)
//
// A token minted with "unpublished": true is signed by a key in no JWKS.
//
// Usage: k8s-standin [-issuer-self] DIR  (-issuer-self: the issuer is https://127.0.0.1:<port>) -> writes k8s-ca.pem, k8s-ca.key, k8s.key, k8s.csr,
// k8s-san.ext, k8s.pem and k8s-ca.srl into DIR and prints one JSON line
//
//	{"port":..., "ca":..., "control_token":..., "reviewer_token":..., "issuer":...,
//	 "rsa_public_pem":..., "ec_public_pem":...}
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The issuer of projected tokens: --service-account-issuer. With -issuer-self
// it is the stand-in's own URL, so that its OIDC discovery document (whose
// issuer must be the URL it is fetched from) serves verifiers outside the
// cluster, as on a cluster whose issuer is its public API address.
var issuer = "https://kubernetes.default.svc.cluster.local"

// apiURL is the stand-in's own address (kube-apiserver's external address,
// which names the JWKS in the discovery document).
var apiURL string

const (
	legacyIssuer = "kubernetes/serviceaccount"
	// go-jose's jwt.DefaultLeeway, which kube-apiserver uses for exp and nbf.
	leeway = 60.0
	// The user a denied reviewer is reported as when its token is not one of
	// this cluster's service account tokens.
	defaultReviewerUser = "system:serviceaccount:vault:vault"
	tokenReviewPath     = "/apis/authentication.k8s.io/v1/tokenreviews"
)

var b64 = base64.RawURLEncoding

// ---------------------------------------------------------------------------
// API objects

type statusDetails struct {
	Name  string `json:"name,omitempty"`
	Group string `json:"group,omitempty"`
	Kind  string `json:"kind,omitempty"`
}

type statusObj struct {
	Kind       string         `json:"kind"`
	APIVersion string         `json:"apiVersion"`
	Metadata   struct{}       `json:"metadata"`
	Status     string         `json:"status"`
	Message    string         `json:"message"`
	Reason     string         `json:"reason"`
	Details    *statusDetails `json:"details,omitempty"`
	Code       int            `json:"code"`
}

func newStatus(code int, reason, message string, details *statusDetails) statusObj {
	return statusObj{Kind: "Status", APIVersion: "v1", Status: "Failure", Message: message, Reason: reason,
		Details: details, Code: code}
}

type userInfo struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

type reviewStatus struct {
	Authenticated bool     `json:"authenticated,omitempty"`
	User          userInfo `json:"user"`
	Audiences     []string `json:"audiences,omitempty"`
	Error         string   `json:"error,omitempty"`
}

type reviewSpec struct {
	Token     string   `json:"token,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
}

type tokenReview struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		CreationTimestamp *string `json:"creationTimestamp"`
	} `json:"metadata"`
	Spec   reviewSpec   `json:"spec"`
	Status reviewStatus `json:"status"`
}

// ---------------------------------------------------------------------------
// The cluster

type namespace struct {
	uid     string
	created string
	labels  map[string]string
}

type serviceAccount struct {
	uid         string
	created     string
	annotations map[string]string
}

type saKey struct{ ns, name string }

type cluster struct {
	rsa          *rsa.PrivateKey   // the RSA signing key; guarded by mu
	retired      []*rsa.PrivateKey // rotated out: still published and accepted; guarded by mu
	stray        *rsa.PrivateKey   // signs "unpublished" tokens: in no JWKS
	ec           *ecdsa.PrivateKey
	rsaKid       string // guarded by mu
	ecKid        string
	jwksFetches  int64 // atomic
	mu           sync.RWMutex
	namespaces   map[string]*namespace
	accounts     map[saKey]*serviceAccount
	reviewers    map[string]bool            // token -> allowed (system:auth-delegator)
	grants       map[string]map[string]bool // token -> the only resources it may use; absent = all
	reviews      int64                      // atomic
	controlToken string
	pods         map[podKey]*pod // pods.go; guarded by mu
	outage       atomic.Bool     // pods.go: the API is "down"
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func nowStamp() string { return time.Now().UTC().Format(time.RFC3339) }

func kid(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return b64.EncodeToString(sum[:])
}

func newCluster() *cluster {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	sk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	c := &cluster{rsa: rk, stray: sk, ec: ek, rsaKid: kid(&rk.PublicKey), ecKid: kid(&ek.PublicKey),
		namespaces: map[string]*namespace{}, accounts: map[saKey]*serviceAccount{}, reviewers: map[string]bool{},
		grants: map[string]map[string]bool{}, pods: map[podKey]*pod{}}
	c.setNamespaceLocked("default", nil)
	c.setNamespaceLocked("kube-system", nil)
	return c
}

// Every namespace carries kubernetes.io/metadata.name=<name>, set (and
// enforced) by kube-apiserver since 1.21.
func (c *cluster) setNamespaceLocked(name string, labels map[string]string) {
	l := map[string]string{}
	for k, v := range labels {
		l[k] = v
	}
	l["kubernetes.io/metadata.name"] = name
	if ns, ok := c.namespaces[name]; ok {
		ns.labels = l
		return
	}
	c.namespaces[name] = &namespace{uid: newUUID(), created: nowStamp(), labels: l}
}

type header struct {
	Typ string `json:"typ"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// sign signs claims with the cluster's key for alg, or, when unpublished,
// with a key no JWKS lists (under a kid of its own).
func (c *cluster) sign(claims []byte, alg string, unpublished bool) (string, error) {
	c.mu.RLock()
	rk, rkid := c.rsa, c.rsaKid
	c.mu.RUnlock()
	if unpublished {
		rk, rkid = c.stray, "unpublished-"+kid(&c.stray.PublicKey)
	}
	h := header{Typ: "JWT", Alg: alg, Kid: c.ecKid}
	if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
		h.Kid = rkid
	}
	hj, _ := json.Marshal(h)
	input := b64.EncodeToString(hj) + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, rk, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: 32})
	case "ES256":
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, c.ec, digest[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	default:
		return "", fmt.Errorf("unsupported alg %q", alg)
	}
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

func decodeSegment(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}

var errNotOurs = errors.New("invalid bearer token")

// verify returns the claims if token was signed by this cluster. errNotOurs
// means it is not a JWT from one of this cluster's issuers (kube-apiserver's
// service account authenticator then stays silent: "invalid bearer token").
func (c *cluster) verify(token string) (map[string]interface{}, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errNotOurs
	}
	hj, err1 := decodeSegment(parts[0])
	cj, err2 := decodeSegment(parts[1])
	sig, err3 := decodeSegment(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, errNotOurs
	}
	var h map[string]interface{}
	var claims map[string]interface{}
	if json.Unmarshal(hj, &h) != nil || json.Unmarshal(cj, &claims) != nil || h == nil || claims == nil {
		return nil, errNotOurs
	}
	if iss, _ := claims["iss"].(string); iss != issuer && iss != legacyIssuer {
		return nil, errNotOurs
	}
	bad := errors.New("[invalid bearer token, square/go-jose: error in cryptographic primitive]")
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	alg, _ := h["alg"].(string)
	switch alg {
	case "RS256", "PS256":
		ok := false
		for _, k := range c.rsaKeys() {
			if alg == "RS256" {
				ok = ok || rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig) == nil
			} else {
				ok = ok || rsa.VerifyPSS(&k.PublicKey, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32}) == nil
			}
		}
		if !ok {
			return nil, bad
		}
	case "ES256":
		if len(sig) != 64 {
			return nil, bad
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(&c.ec.PublicKey, digest[:], r, s) {
			return nil, bad
		}
	default:
		return nil, bad
	}
	return claims, nil
}

// rsaKeys is the RSA keys tokens are accepted from: the signer and the retired.
func (c *cluster) rsaKeys() []*rsa.PrivateKey {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]*rsa.PrivateKey{c.rsa}, c.retired...)
}

// rotate makes a new RSA signing key; the old one stays published and
// accepted (kube-apiserver verifies with every --service-account-key-file).
func (c *cluster) rotate() error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.retired = append(c.retired, c.rsa)
	c.rsa, c.rsaKid = k, kid(&k.PublicKey)
	c.mu.Unlock()
	return nil
}

// ---------------------------------------------------------------------------
// OIDC discovery (pkg/serviceaccount/openidmetadata.go): served to anyone,
// as on a cluster that binds system:service-account-issuer-discovery to
// system:unauthenticated.

type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

func (c *cluster) jwks() map[string][]jwk {
	keys := []jwk{}
	for _, k := range c.rsaKeys() {
		keys = append(keys, jwk{Use: "sig", Kty: "RSA", Kid: kid(&k.PublicKey), Alg: "RS256",
			N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
	}
	x, y := make([]byte, 32), make([]byte, 32)
	c.ec.X.FillBytes(x)
	c.ec.Y.FillBytes(y)
	keys = append(keys, jwk{Use: "sig", Kty: "EC", Kid: c.ecKid, Alg: "ES256", Crv: "P-256",
		X: b64.EncodeToString(x), Y: b64.EncodeToString(y)})
	return map[string][]jwk{"keys": keys}
}

func discoveryDocument(jwksURI string) map[string]interface{} {
	return map[string]interface{}{"issuer": issuer, "jwks_uri": jwksURI, "response_types_supported": []string{"id_token"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256", "RS256"}}
}

func strClaim(m map[string]interface{}, k string) string {
	s, _ := m[k].(string)
	return s
}

func objClaim(m map[string]interface{}, k string) map[string]interface{} {
	o, _ := m[k].(map[string]interface{})
	if o == nil {
		return map[string]interface{}{}
	}
	return o
}

func audiences(v interface{}) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []interface{}:
		out := []string{}
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func failed(msg string) reviewStatus {
	return reviewStatus{Error: "[invalid bearer token, " + msg + "]"}
}

// review computes the TokenReview status kube-apiserver would, for a token
// and the requested audiences (none: the API audiences).
func (c *cluster) review(token string, requested []string) reviewStatus {
	claims, err := c.verify(token)
	if err != nil {
		return reviewStatus{Error: err.Error()}
	}
	k8s, projected := claims["kubernetes.io"].(map[string]interface{})
	var ns, name, uid string
	if projected {
		sa := objClaim(k8s, "serviceaccount")
		ns, name, uid = strClaim(k8s, "namespace"), strClaim(sa, "name"), strClaim(sa, "uid")
	} else {
		ns = strClaim(claims, "kubernetes.io/serviceaccount/namespace")
		name = strClaim(claims, "kubernetes.io/serviceaccount/service-account.name")
		uid = strClaim(claims, "kubernetes.io/serviceaccount/service-account.uid")
	}

	// jwt.go: audiences first. A token without aud (legacy) is good for
	// the API audiences only; no requested audiences means the API's own.
	tokenAud := audiences(claims["aud"])
	if len(tokenAud) == 0 {
		tokenAud = []string{issuer}
	}
	if len(requested) == 0 {
		requested = []string{issuer}
	}
	inter := []string{}
	for _, a := range requested {
		if contains(tokenAud, a) {
			inter = append(inter, a)
		}
	}
	if len(inter) == 0 {
		return failed(fmt.Sprintf("token audiences %q is invalid for the target audiences %q", tokenAud, requested))
	}

	// claims.go: time claims (with go-jose's leeway), then the bound objects.
	now := float64(time.Now().UnixNano()) / 1e9
	if projected {
		if nbf, ok := claims["nbf"].(float64); ok && now+leeway < nbf {
			return failed("service account token is not valid yet")
		}
		if exp, ok := claims["exp"].(float64); ok && now-leeway > exp {
			return failed("service account token has expired")
		}
	}
	c.mu.RLock()
	live := c.accounts[saKey{ns, name}]
	var liveUID string
	if live != nil {
		liveUID = live.uid
	}
	c.mu.RUnlock()
	if live == nil {
		return failed(fmt.Sprintf("serviceaccounts %q not found", name))
	}
	if liveUID != uid {
		if projected {
			return failed(fmt.Sprintf("service account UID (%s) does not match claim (%s)", liveUID, uid))
		}
		return failed(fmt.Sprintf("ServiceAccount UID (%s) does not match claim (%s)", liveUID, uid))
	}

	user := userInfo{Username: "system:serviceaccount:" + ns + ":" + name, UID: uid,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}
	if projected {
		extra := map[string][]string{}
		if pod, ok := k8s["pod"].(map[string]interface{}); ok {
			extra["authentication.kubernetes.io/pod-name"] = []string{strClaim(pod, "name")}
			extra["authentication.kubernetes.io/pod-uid"] = []string{strClaim(pod, "uid")}
		}
		if jti := strClaim(claims, "jti"); jti != "" {
			extra["authentication.kubernetes.io/credential-id"] = []string{"JTI=" + jti}
		}
		if len(extra) > 0 {
			user.Extra = extra
		}
	}
	return reviewStatus{Authenticated: true, User: user, Audiences: inter}
}

// ---------------------------------------------------------------------------
// Minting

type ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

type projectedClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp json.Number     `json:"exp"`
	Iat json.Number     `json:"iat"`
	Nbf json.Number     `json:"nbf"`
	Jti string          `json:"jti"`
	K8s struct {
		Namespace      string `json:"namespace"`
		ServiceAccount ref    `json:"serviceaccount"`
		Pod            ref    `json:"pod"`
	} `json:"kubernetes.io"`
}

type legacyClaims struct {
	Iss        string `json:"iss"`
	Sub        string `json:"sub"`
	Namespace  string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName string `json:"kubernetes.io/serviceaccount/secret.name"`
	SAName     string `json:"kubernetes.io/serviceaccount/service-account.name"`
	SAUID      string `json:"kubernetes.io/serviceaccount/service-account.uid"`
}

type mintRequest struct {
	Namespace       *string         `json:"namespace"`
	Name            *string         `json:"name"`
	Alg             string          `json:"alg"`
	Audiences       json.RawMessage `json:"audiences"`
	TTL             *float64        `json:"ttl"`
	Legacy          bool            `json:"legacy"`
	NotBeforeOffset float64         `json:"not_before_offset"`
	Unpublished     bool            `json:"unpublished"`
}

// number writes n as an integer when it is one (as Python's int arithmetic does).
func number(n float64) json.Number {
	if n == math.Trunc(n) && math.Abs(n) < 1e15 {
		return json.Number(strconv.FormatInt(int64(n), 10))
	}
	return json.Number(strconv.FormatFloat(n, 'f', -1, 64))
}

func (c *cluster) mint(m mintRequest) (string, error) {
	ns, name := *m.Namespace, *m.Name
	c.mu.RLock()
	uid := ""
	if sa := c.accounts[saKey{ns, name}]; sa != nil {
		uid = sa.uid
	}
	c.mu.RUnlock()
	if uid == "" {
		uid = newUUID() // a token for no live account: it fails review
	}
	alg := m.Alg
	if alg == "" {
		alg = "RS256"
	}
	var claims []byte
	var err error
	if m.Legacy {
		claims, err = json.Marshal(legacyClaims{Iss: legacyIssuer, Sub: "system:serviceaccount:" + ns + ":" + name,
			Namespace: ns, SecretName: name + "-token-" + randomHex(3)[:5], SAName: name, SAUID: uid})
	} else {
		now := float64(time.Now().Unix())
		ttl := 3600.0
		if m.TTL != nil {
			ttl = *m.TTL
		}
		p := projectedClaims{Iss: issuer, Sub: "system:serviceaccount:" + ns + ":" + name, Aud: m.Audiences,
			Exp: number(now + ttl), Iat: number(now + m.NotBeforeOffset), Nbf: number(now + m.NotBeforeOffset),
			Jti: newUUID()}
		if len(p.Aud) == 0 || string(p.Aud) == "null" {
			p.Aud, _ = json.Marshal([]string{issuer})
		}
		p.K8s.Namespace = ns
		p.K8s.ServiceAccount = ref{Name: name, UID: uid}
		p.K8s.Pod = ref{Name: name + "-pod", UID: newUUID()}
		claims, err = json.Marshal(p)
	}
	if err != nil {
		return "", err
	}
	return c.sign(claims, alg, m.Unpublished)
}

// ---------------------------------------------------------------------------
// HTTP

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	body, err := json.Marshal(v)
	if err != nil {
		code, body = 500, []byte(`{}`)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, 404, newStatus(404, "NotFound", "the server could not find the requested resource", nil))
}

// bearer parses Authorization as kube-apiserver's bearertoken authenticator:
// present=false when there is no bearer credential at all (anonymous).
func bearer(r *http.Request) (token string, present bool) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return "", false
	}
	parts := strings.SplitN(auth, " ", 3)
	if len(parts) < 2 || strings.ToLower(parts[0]) != "bearer" {
		return "", false
	}
	return parts[1], true
}

type server struct{ c *cluster }

func (s *server) control(r *http.Request) bool {
	tok, _ := bearer(r)
	return strings.HasPrefix(r.RequestURI, "/control/") && tok != "" && tok == s.c.controlToken
}

// forbidden is the 403 RBAC answer for user doing verb on what the request
// addresses.
func forbidden(w http.ResponseWriter, user, verb string, parts []string, path string) {
	var msg string
	var details *statusDetails
	switch {
	case len(parts) == 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces":
		msg = fmt.Sprintf("namespaces %q is forbidden: User %q cannot %s resource \"namespaces\" in API group \"\" "+
			"at the cluster scope", parts[3], user, verb)
		details = &statusDetails{Name: parts[3], Kind: "namespaces"}
	case len(parts) == 6 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" &&
		parts[4] == "serviceaccounts":
		msg = fmt.Sprintf("serviceaccounts %q is forbidden: User %q cannot %s resource \"serviceaccounts\" in API "+
			"group \"\" in the namespace %q", parts[5], user, verb, parts[3])
		details = &statusDetails{Name: parts[5], Kind: "serviceaccounts"}
	case len(parts) == 6 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" && parts[4] == "pods":
		msg = fmt.Sprintf("pods %q is forbidden: User %q cannot %s resource \"pods\" in API group \"\" in the "+
			"namespace %q", parts[5], user, verb, parts[3])
		details = &statusDetails{Name: parts[5], Kind: "pods"}
	case path == tokenReviewPath:
		msg = fmt.Sprintf("tokenreviews.authentication.k8s.io is forbidden: User %q cannot %s resource "+
			"\"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope", user, verb)
		details = &statusDetails{Group: "authentication.k8s.io", Kind: "tokenreviews"}
	default:
		msg = fmt.Sprintf("forbidden: User %q cannot %s path %q", user, verb, path)
	}
	writeJSON(w, 403, newStatus(403, "Forbidden", msg, details))
}

// authorize authenticates the caller and checks it may use the API: a
// registered reviewer as registered; another valid service account token
// (API audience) is a user without the grant; an invalid token is 401.
func (s *server) authorize(w http.ResponseWriter, r *http.Request, verb string, parts []string, path string) bool {
	tok, present := bearer(r)
	if !present {
		forbidden(w, "system:anonymous", verb, parts, path)
		return false
	}
	s.c.mu.RLock()
	allowed, registered := s.c.reviewers[tok]
	if grant, limited := s.c.grants[tok]; allowed && limited && !grant[resourceOf(parts)] {
		allowed = false // RBAC: bound to roles that do not cover this resource
	}
	s.c.mu.RUnlock()
	if registered && allowed {
		return true
	}
	var who reviewStatus
	if tok != "" {
		who = s.c.review(tok, nil)
	}
	if registered {
		user := defaultReviewerUser
		if who.Authenticated {
			user = who.User.Username
		}
		forbidden(w, user, verb, parts, path)
		return false
	}
	if who.Authenticated {
		forbidden(w, who.User.Username, verb, parts, path)
		return false
	}
	writeJSON(w, 401, newStatus(401, "Unauthorized", "Unauthorized", nil))
	return false
}

// resourceOf names the resource an API path addresses, as RBAC sees it.
func resourceOf(parts []string) string {
	switch {
	case len(parts) >= 5 && parts[0] == "api" && parts[2] == "namespaces":
		return parts[4]
	case len(parts) >= 4 && parts[0] == "api" && parts[2] == "namespaces":
		return "namespaces"
	case len(parts) >= 4 && parts[0] == "apis" && parts[1] == "authentication.k8s.io":
		return parts[3]
	}
	return ""
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Always read the whole body first, so a keep-alive connection stays clean
	// even when the answer is an error.
	raw, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
	if err != nil {
		return
	}
	if s.c.outage.Load() && !strings.HasPrefix(r.RequestURI, "/control/") {
		dropConnection(w)
		return
	}
	switch r.Method {
	case http.MethodPatch:
		parts := splitPath(strings.SplitN(r.RequestURI, "?", 2)[0])
		if k, ok := podPath(parts); ok && s.authorize(w, r, "patch", parts, r.URL.Path) {
			s.patchPod(w, r, k, raw)
		} else if !ok {
			notFound(w)
		}
	case http.MethodGet:
		s.get(w, r)
	case http.MethodPost:
		s.post(w, r, raw)
	case http.MethodDelete:
		s.delete(w, r)
	default:
		writeJSON(w, 405, newStatus(405, "MethodNotAllowed", "the server does not allow this method on the "+
			"requested resource", nil))
	}
}

func (s *server) get(w http.ResponseWriter, r *http.Request) {
	path := strings.SplitN(r.RequestURI, "?", 2)[0]
	parts := splitPath(path)
	if r.RequestURI == "/control/stats" && s.control(r) {
		writeJSON(w, 200, map[string]int64{"reviews": atomic.LoadInt64(&s.c.reviews),
			"jwks_fetches": atomic.LoadInt64(&s.c.jwksFetches)})
		return
	}
	if strings.HasPrefix(path, "/control/pods/") && s.control(r) {
		s.controlPod(w, parts)
		return
	}
	switch path {
	case "/.well-known/openid-configuration":
		writeJSON(w, 200, discoveryDocument(apiURL+"/openid/v1/jwks"))
		return
	case "/openid/v1/jwks":
		atomic.AddInt64(&s.c.jwksFetches, 1)
		writeJSON(w, 200, s.c.jwks())
		return
	}
	if !s.authorize(w, r, "get", parts, path) {
		return
	}
	c := s.c
	if k, ok := podPath(parts); ok {
		s.getPod(w, k)
		return
	}
	if len(parts) == 4 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" {
		name := parts[3]
		c.mu.RLock()
		ns := c.namespaces[name]
		var labels map[string]string
		var uid, created string
		if ns != nil {
			labels, uid, created = ns.labels, ns.uid, ns.created
		}
		c.mu.RUnlock()
		if ns == nil {
			writeJSON(w, 404, newStatus(404, "NotFound", fmt.Sprintf("namespaces %q not found", name),
				&statusDetails{Name: name, Kind: "namespaces"}))
			return
		}
		type meta struct {
			Name              string            `json:"name"`
			UID               string            `json:"uid"`
			CreationTimestamp string            `json:"creationTimestamp"`
			Labels            map[string]string `json:"labels,omitempty"`
		}
		writeJSON(w, 200, struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
			Metadata   meta   `json:"metadata"`
			Spec       struct {
				Finalizers []string `json:"finalizers"`
			} `json:"spec"`
			Status struct {
				Phase string `json:"phase"`
			} `json:"status"`
		}{Kind: "Namespace", APIVersion: "v1", Metadata: meta{Name: name, UID: uid, CreationTimestamp: created,
			Labels: labels}, Spec: struct {
			Finalizers []string `json:"finalizers"`
		}{[]string{"kubernetes"}}, Status: struct {
			Phase string `json:"phase"`
		}{"Active"}})
		return
	}
	if len(parts) == 6 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" &&
		parts[4] == "serviceaccounts" {
		ns, name := parts[3], parts[5]
		c.mu.RLock()
		sa := c.accounts[saKey{ns, name}]
		var uid, created string
		var ann map[string]string
		if sa != nil {
			uid, created, ann = sa.uid, sa.created, sa.annotations
		}
		c.mu.RUnlock()
		if sa == nil {
			writeJSON(w, 404, newStatus(404, "NotFound", fmt.Sprintf("serviceaccounts %q not found", name),
				&statusDetails{Name: name, Kind: "serviceaccounts"}))
			return
		}
		type meta struct {
			Name              string            `json:"name"`
			Namespace         string            `json:"namespace"`
			UID               string            `json:"uid"`
			CreationTimestamp string            `json:"creationTimestamp"`
			Annotations       map[string]string `json:"annotations,omitempty"`
		}
		writeJSON(w, 200, struct {
			Kind       string `json:"kind"`
			APIVersion string `json:"apiVersion"`
			Metadata   meta   `json:"metadata"`
		}{"ServiceAccount", "v1", meta{name, ns, uid, created, ann}})
		return
	}
	if path == tokenReviewPath {
		// A create-only resource.
		writeJSON(w, 405, newStatus(405, "MethodNotAllowed", "the server does not allow this method on the "+
			"requested resource", nil))
		return
	}
	notFound(w)
}

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, 400, newStatus(400, "BadRequest", msg, nil))
}

func (s *server) post(w http.ResponseWriter, r *http.Request, raw []byte) {
	path := strings.SplitN(r.RequestURI, "?", 2)[0]
	c := s.c
	if strings.HasPrefix(path, "/control/") {
		if !s.control(r) {
			writeJSON(w, 401, newStatus(401, "Unauthorized", "Unauthorized", nil))
			return
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			raw = []byte("{}")
		}
		switch path {
		case "/control/serviceaccounts":
			var b struct {
				Namespace   *string           `json:"namespace"`
				Name        *string           `json:"name"`
				Annotations map[string]string `json:"annotations"`
			}
			if json.Unmarshal(raw, &b) != nil || b.Namespace == nil || b.Name == nil {
				badRequest(w, "namespace and name are required")
				return
			}
			uid := newUUID()
			c.mu.Lock()
			c.accounts[saKey{*b.Namespace, *b.Name}] = &serviceAccount{uid: uid, created: nowStamp(),
				annotations: b.Annotations}
			if c.namespaces[*b.Namespace] == nil {
				c.setNamespaceLocked(*b.Namespace, nil)
			}
			c.mu.Unlock()
			writeJSON(w, 200, map[string]string{"uid": uid})
		case "/control/namespaces":
			var b struct {
				Name   *string           `json:"name"`
				Labels map[string]string `json:"labels"`
			}
			if json.Unmarshal(raw, &b) != nil || b.Name == nil {
				badRequest(w, "name is required")
				return
			}
			c.mu.Lock()
			c.setNamespaceLocked(*b.Name, b.Labels)
			c.mu.Unlock()
			writeJSON(w, 200, struct{}{})
		case "/control/token":
			var b mintRequest
			if err := json.Unmarshal(raw, &b); err != nil || b.Namespace == nil || b.Name == nil {
				badRequest(w, "namespace and name are required")
				return
			}
			tok, err := c.mint(b)
			if err != nil {
				badRequest(w, err.Error())
				return
			}
			writeJSON(w, 200, map[string]string{"token": tok})
		case "/control/pods":
			s.createPod(w, raw)
		case "/control/outage":
			s.setOutage(w, raw)
		case "/control/rotate":
			if err := c.rotate(); err != nil {
				badRequest(w, err.Error())
				return
			}
			c.mu.RLock()
			writeJSON(w, 200, map[string]string{"kid": c.rsaKid})
			c.mu.RUnlock()
		case "/control/reviewers":
			var b struct {
				Token     *string   `json:"token"`
				Allowed   *bool     `json:"allowed"`
				Resources *[]string `json:"resources"`
			}
			if json.Unmarshal(raw, &b) != nil || b.Token == nil {
				badRequest(w, "token is required")
				return
			}
			allowed := b.Allowed == nil || *b.Allowed
			c.mu.Lock()
			c.reviewers[*b.Token] = allowed
			delete(c.grants, *b.Token)
			if b.Resources != nil {
				g := map[string]bool{}
				for _, res := range *b.Resources {
					g[res] = true
				}
				c.grants[*b.Token] = g
			}
			c.mu.Unlock()
			writeJSON(w, 200, struct{}{})
		default:
			writeJSON(w, 404, struct{}{})
		}
		return
	}
	if path == tokenReviewPath {
		if !s.authorize(w, r, "create", splitPath(path), path) {
			return
		}
		var b struct {
			Spec *reviewSpec `json:"spec"`
		}
		if len(bytes.TrimSpace(raw)) > 0 {
			if !json.Valid(raw) {
				badRequest(w, "the body of the request was in an unknown format")
				return
			}
			if err := json.Unmarshal(raw, &b); err != nil {
				badRequest(w, "TokenReview in version \"v1\" cannot be handled as a TokenReview: "+err.Error())
				return
			}
		}
		spec := reviewSpec{}
		if b.Spec != nil {
			spec = *b.Spec
		}
		atomic.AddInt64(&c.reviews, 1)
		if spec.Token == "" {
			badRequest(w, "token is required for TokenReview in authentication")
			return
		}
		out := tokenReview{Kind: "TokenReview", APIVersion: "authentication.k8s.io/v1", Spec: spec,
			Status: c.review(spec.Token, spec.Audiences)}
		writeJSON(w, 201, out)
		return
	}
	// Anything else under the API: authenticated and authorised first, as
	// kube-apiserver does, then not found.
	parts := splitPath(path)
	if !s.authorize(w, r, "create", parts, path) {
		return
	}
	if len(parts) == 7 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "namespaces" &&
		parts[4] == "serviceaccounts" && parts[6] == "token" {
		s.tokenRequest(w, r, parts[3], parts[5], raw)
		return
	}
	notFound(w)
}

func (s *server) delete(w http.ResponseWriter, r *http.Request) {
	parts := splitPath(r.RequestURI)
	if s.control(r) && len(parts) == 4 && parts[1] == "serviceaccounts" {
		s.c.mu.Lock()
		delete(s.c.accounts, saKey{parts[2], parts[3]})
		s.c.mu.Unlock()
		writeJSON(w, 200, struct{}{})
		return
	}
	writeJSON(w, 404, struct{}{})
}

// ---------------------------------------------------------------------------
// Certificates: an ECDSA P-256 CA (CN=kubernetes-ca) and a server
// certificate (CN=kube-apiserver; 127.0.0.1, localhost,
// kubernetes.default.svc), both valid for two days.

func writePEM(path, typ string, der []byte, mode os.FileMode) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		fail(err)
	}
}

func serial() *big.Int {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b)
}

func makeCerts(dir string) (tls.Certificate, string) {
	now := time.Now().Add(-time.Minute)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "kubernetes-ca"},
		NotBefore: now, NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		fail(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	caPath := filepath.Join(dir, "k8s-ca.pem")
	writePEM(caPath, "CERTIFICATE", caDER, 0o644)
	caKeyDER, _ := x509.MarshalPKCS8PrivateKey(caKey)
	writePEM(filepath.Join(dir, "k8s-ca.key"), "PRIVATE KEY", caKeyDER, 0o600)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fail(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	writePEM(filepath.Join(dir, "k8s.key"), "PRIVATE KEY", keyDER, 0o600)
	subject := pkix.Name{CommonName: "kube-apiserver"}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		fail(err)
	}
	writePEM(filepath.Join(dir, "k8s.csr"), "CERTIFICATE REQUEST", csr, 0o644)
	if err := os.WriteFile(filepath.Join(dir, "k8s-san.ext"),
		[]byte("subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"), 0o644); err != nil {
		fail(err)
	}
	sn := serial()
	if err := os.WriteFile(filepath.Join(dir, "k8s-ca.srl"), []byte(strings.ToUpper(sn.Text(16))+"\n"),
		0o644); err != nil {
		fail(err)
	}
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: subject, NotBefore: now, NotAfter: now.Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost", "kubernetes.default.svc"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		fail(err)
	}
	writePEM(filepath.Join(dir, "k8s.pem"), "CERTIFICATE", der, 0o644)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caPath
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "k8s-standin:", err)
	os.Exit(1)
}

func publicPEM(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		fail(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func main() {
	args := os.Args[1:]
	issuerSelf := len(args) == 2 && args[0] == "-issuer-self"
	if issuerSelf {
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: k8s-standin [-issuer-self] DIR")
		os.Exit(2)
	}
	dir := args[0]
	cert, caPath := makeCerts(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	apiURL = fmt.Sprintf("https://127.0.0.1:%d", ln.Addr().(*net.TCPAddr).Port)
	if issuerSelf {
		issuer = apiURL
	}
	c := newCluster()
	c.controlToken = randomHex(16)
	reviewer, err := c.mint(mintRequest{Namespace: strPtr("kube-system"), Name: strPtr("sealbox-reviewer")})
	if err != nil {
		fail(err)
	}
	claims, _ := c.verify(reviewer)
	uid := strClaim(objClaim(objClaim(claims, "kubernetes.io"), "serviceaccount"), "uid")
	c.accounts[saKey{"kube-system", "sealbox-reviewer"}] = &serviceAccount{uid: uid, created: nowStamp()}
	c.reviewers[reviewer] = true

	srv := &http.Server{
		Handler: &server{c},
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
			NextProtos: []string{"http/1.1"}},
		// HTTP/1.1 only (keep-alive), as the Python stand-in it replaces.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	srv.SetKeepAlivesEnabled(true)
	info := struct {
		Port          int    `json:"port"`
		CA            string `json:"ca"`
		ControlToken  string `json:"control_token"`
		ReviewerToken string `json:"reviewer_token"`
		Issuer        string `json:"issuer"`
		RSAPublicPEM  string `json:"rsa_public_pem"`
		ECPublicPEM   string `json:"ec_public_pem"`
	}{ln.Addr().(*net.TCPAddr).Port, caPath, c.controlToken, reviewer, issuer, publicPEM(&c.rsa.PublicKey),
		publicPEM(&c.ec.PublicKey)}
	line, _ := json.Marshal(info)
	os.Stdout.Write(append(line, '\n'))
	fail(srv.ServeTLS(ln, "", ""))
}

func strPtr(s string) *string { return &s }
