{{- define "kguard.labels" -}}
app.kubernetes.io/name: kguard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
{{- define "kguard.selector" -}}
app.kubernetes.io/name: kguard
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
{{- define "kguard.fullname" -}}
{{ printf "%s-kguard" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
