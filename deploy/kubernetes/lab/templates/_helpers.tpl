{{/* Labels every object of a workload carries; the selector is the last two. Prometheus and
Alloy relabel part-of, component and name into compose_project, compose_service (and
service_name) and container_name, the labels the compose path gives every series and line. */}}
{{- define "lab.labels" -}}
{{ include "lab.common" .root }}
app.kubernetes.io/component: {{ .workload.component }}
{{ include "lab.selector" . }}
{{- end -}}

{{- define "lab.common" -}}
app.kubernetes.io/part-of: {{ required "project: the compose project" .Values.project }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "lab.selector" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: {{ .workload.name }}
{{- end -}}

{{/* The image: the lab's own under image.registry when one is set. */}}
{{- define "lab.image" -}}
{{- if and .workload.own .root.Values.image.registry -}}
{{ .root.Values.image.registry | trimSuffix "/" }}/{{ .workload.image }}
{{- else -}}
{{ .workload.image }}
{{- end -}}
{{- end -}}
