//go:build openbao

package goapi

import api "github.com/openbao/openbao/api/v2"

// The suite's view of OpenBao's client; client_vault_test.go gives the
// same names for HashiCorp's, so every test is written once and runs on both.
const clientName = "github.com/openbao/openbao/api/v2"

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
