{{/* The chart's name, overridable; 63 characters is the DNS label limit. */}}
{{- define "sealbox.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The name of every object: the release's, suffixed with the chart's
     unless the release name already contains it (release "sealbox" gives
     "sealbox", release "prod" gives "prod-sealbox"). 52 characters, not 63:
     the StatefulSet controller labels pods with "<name>-<10-char hash>",
     which must stay a 63-character label value; it also leaves room for
     "-internal" on the headless Service. */}}
{{- define "sealbox.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "sealbox.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "sealbox.headlessName" -}}
{{- printf "%s-internal" (include "sealbox.fullname" .) -}}
{{- end -}}

{{- define "sealbox.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "sealbox.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels must never change: a StatefulSet's selector is immutable. */}}
{{- define "sealbox.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sealbox.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sealbox.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "sealbox.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret mounted at /sealbox/tls. Generating one and naming an
     existing one are exclusive, so a forgotten selfSigned: false does not
     silently serve a generated certificate. */}}
{{- define "sealbox.tlsSecretName" -}}
{{- if .Values.tls.selfSigned -}}
{{- if .Values.tls.secretName -}}
{{- fail "tls.secretName is set but tls.selfSigned is true: set tls.selfSigned=false to use the existing Secret" -}}
{{- end -}}
{{- printf "%s-tls" (include "sealbox.fullname" .) -}}
{{- else -}}
{{- required "tls.secretName is required when tls.selfSigned is false" .Values.tls.secretName -}}
{{- end -}}
{{- end -}}

{{/* Whether /sealbox/tls/ca.crt exists and verifies the certificate for
     127.0.0.1, where the CLI inside the pod connects. */}}
{{- define "sealbox.localCA" -}}
{{- if or .Values.tls.selfSigned .Values.tls.caCert -}}true{{- end -}}
{{- end -}}

{{- define "sealbox.apiAddr" -}}
{{- printf "https://%s.%s.svc:%v" (include "sealbox.fullname" .) .Release.Namespace .Values.service.port -}}
{{- end -}}

{{/* Checks that no single template owns; included by the StatefulSet. */}}
{{- define "sealbox.validate" -}}
{{- if .Values.metrics.serviceMonitor.enabled -}}
{{- if not .Values.metrics.enabled -}}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled (the Prometheus format is off without the telemetry stanza)" -}}
{{- end -}}
{{- if not (or .Values.metrics.unauthenticatedAccess .Values.metrics.serviceMonitor.bearerTokenSecret.name) -}}
{{- fail "metrics.serviceMonitor needs metrics.serviceMonitor.bearerTokenSecret.name (a token that reads sys/metrics) or metrics.unauthenticatedAccess" -}}
{{- end -}}
{{- end -}}
{{- if ne (int .Values.replicas) 1 -}}
{{- fail "replicas must be 1: each pod has its own RocksDB, so more replicas would be unrelated vaults (for several pods: server.ha.enabled and server.ha.replicas)" -}}
{{- end -}}
{{- if .Values.server.ha.enabled -}}
{{- include "sealbox.validateHA" . -}}
{{- end -}}
{{- if .Values.staticSeal.enabled -}}
{{- $_ := required "staticSeal.secretName is required when staticSeal.enabled is true" .Values.staticSeal.secretName -}}
{{- $_ = required "staticSeal.currentKeyId is required when staticSeal.enabled is true" .Values.staticSeal.currentKeyId -}}
{{- $_ = required "staticSeal.currentKeyFile is required when staticSeal.enabled is true" .Values.staticSeal.currentKeyFile -}}
{{- if or .Values.staticSeal.previousKeyId .Values.staticSeal.previousKeyFile -}}
{{- if not (and .Values.staticSeal.previousKeyId .Values.staticSeal.previousKeyFile) -}}
{{- fail "staticSeal.previousKeyId and staticSeal.previousKeyFile go together: set both or neither" -}}
{{- end -}}
{{- if eq .Values.staticSeal.previousKeyFile .Values.staticSeal.currentKeyFile -}}
{{- fail "staticSeal.previousKeyFile must differ from staticSeal.currentKeyFile" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* HA on etcd: the values the StatefulSet, ConfigMap and Services rely on. */}}
{{- define "sealbox.validateHA" -}}
{{- $ha := .Values.server.ha -}}
{{- if lt (int $ha.replicas) 1 -}}
{{- fail "server.ha.replicas must be at least 1" -}}
{{- end -}}
{{- if not $ha.etcd.address -}}
{{- fail "server.ha.etcd.address is required with server.ha.enabled: the endpoints of an etcd of Sealbox's own" -}}
{{- end -}}
{{- if not (has $ha.antiAffinity (list "preferred" "required")) -}}
{{- fail "server.ha.antiAffinity must be preferred or required" -}}
{{- end -}}
{{- if eq (int $ha.clusterPort) 8200 -}}
{{- fail "server.ha.clusterPort must differ from the API port 8200" -}}
{{- end -}}
{{- $tls := $ha.etcd.tls -}}
{{- if $tls.secretName -}}
{{- if ne (empty $tls.certKey) (empty $tls.keyKey) -}}
{{- fail "server.ha.etcd.tls.certKey and server.ha.etcd.tls.keyKey go together: set both or neither" -}}
{{- end -}}
{{- if and (empty $tls.caKey) (empty $tls.certKey) -}}
{{- fail "server.ha.etcd.tls.secretName needs caKey or certKey/keyKey" -}}
{{- end -}}
{{- end -}}
{{- if $ha.etcd.auth.secretName -}}
{{- $_ := required "server.ha.etcd.auth.usernameKey is required with server.ha.etcd.auth.secretName" $ha.etcd.auth.usernameKey -}}
{{- $_ = required "server.ha.etcd.auth.passwordKey is required with server.ha.etcd.auth.secretName" $ha.etcd.auth.passwordKey -}}
{{- end -}}
{{- end -}}

{{/* A pod's own address through the headless Service, with a port:
     $(POD_NAME) is expanded by Kubernetes from the env var of that name. */}}
{{- define "sealbox.podAddr" -}}
{{- printf "https://$(POD_NAME).%s.%s.svc" (include "sealbox.headlessName" .) .Release.Namespace -}}
{{- end -}}

{{/*
"true" when the pods label themselves (service_registration "kubernetes"):
server.serviceRegistration.enabled, or, when "-", HA mode. Empty otherwise.
*/}}
{{- define "sealbox.serviceRegistration" -}}
{{- $v := .Values.server.serviceRegistration.enabled -}}
{{- if eq (toString $v) "-" -}}
{{- if .Values.server.ha.enabled }}true{{ end -}}
{{- else if $v -}}
true
{{- end -}}
{{- end }}
