//go:build !openbao

package csi

import api "github.com/hashicorp/vault/api"

// The client library vault-csi-provider links; client_openbao_test.go names
// the one openbao-csi-provider links, so the suite runs once on each.
const (
	clientName = "github.com/hashicorp/vault/api"
	clientTag  = "vault" // its secrets live under secret/apps/vault
	// vault-csi-provider logs in again after a 403 even when the read used a token just made.
	reloginAfterFreshLogin = true
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
