{{- define "sealbox.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "sealbox.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "sealbox.labels" -}}
app.kubernetes.io/name: {{ include "sealbox.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

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

{{- define "sealbox.tlsSecretName" -}}
{{- if .Values.tls.selfSigned -}}
{{- printf "%s-tls" (include "sealbox.fullname" .) -}}
{{- else -}}
{{- required "tls.secretName is required when tls.selfSigned is false" .Values.tls.secretName -}}
{{- end -}}
{{- end -}}

{{- define "sealbox.address" -}}
{{- printf "https://%s.%s.svc:%v" (include "sealbox.fullname" .) .Release.Namespace .Values.service.port -}}
{{- end -}}
