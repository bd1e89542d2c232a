{{/* Labels every object of a workload carries; the selector is the last two. */}}
{{- define "lab.labels" -}}
app.kubernetes.io/part-of: observability-lab
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
app.kubernetes.io/component: {{ .workload.component }}
{{ include "lab.selector" . }}
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
