//go:build !openbao

package goapi

import api "github.com/hashicorp/vault/api"

// The suite's view of HashiCorp's client; client_openbao_test.go gives the
// same names for OpenBao's, so every test is written once and runs on both.
const clientName = "github.com/hashicorp/vault/api"

type (
	Client               = api.Client
	Secret               = api.Secret
	ResponseError        = api.ResponseError
	TLSConfig            = api.TLSConfig
	InitRequest          = api.InitRequest
	MountInput           = api.MountInput
	MountConfigInput     = api.MountConfigInput
	EnableAuthOptions    = api.EnableAuthOptions
	EnableAuditOptions   = api.EnableAuditOptions
	TokenCreateRequest   = api.TokenCreateRequest
	KVMetadataPutInput   = api.KVMetadataPutInput
	KVMetadataPatchInput = api.KVMetadataPatchInput
	LifetimeWatcherInput = api.LifetimeWatcherInput
)

var (
	DefaultConfig     = api.DefaultConfig
	NewClient         = api.NewClient
	WithCheckAndSet   = api.WithCheckAndSet
	WithMergeMethod   = api.WithMergeMethod
	ErrSecretNotFound = api.ErrSecretNotFound
)

const RenewBehaviorErrorOnErrors = api.RenewBehaviorErrorOnErrors
