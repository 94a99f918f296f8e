//go:build openbao

package csi

import api "github.com/openbao/openbao/api/v2"

// The client library openbao-csi-provider links; client_vault_test.go names
// the one vault-csi-provider links, so the suite runs once on each.
const (
	clientName = "github.com/openbao/openbao/api/v2"
	clientTag  = "openbao" // its secrets live under secret/apps/openbao
	// openbao-csi-provider logs in again after a 403 only when the token was not just made.
	reloginAfterFreshLogin = false
)

type (
	Client        = api.Client
	Secret        = api.Secret
	ResponseError = api.ResponseError
	TLSConfig     = api.TLSConfig
)

var (
	DefaultConfig = api.DefaultConfig
	NewClient     = api.NewClient
	ParseSecret   = api.ParseSecret
)
