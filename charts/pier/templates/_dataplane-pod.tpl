{{/*
The dataplane pod, shared by the Deployment and the DaemonSet so the two kinds cannot drift.
*/}}
{{- define "pier.dataplane.podTemplate" -}}
{{- $mount := include "pier.grpc.mountPath" . -}}
{{- $config := .Values.dataplane.config -}}
metadata:
  labels:
    {{- include "pier.dataplane.selectorLabels" . | nindent 4 }}
    {{- with .Values.dataplane.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or .Values.metrics.scrapeAnnotations .Values.dataplane.podAnnotations }}
  annotations:
    {{- if .Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: "9090"
    prometheus.io/path: /metrics
    {{- end }}
    {{- with .Values.dataplane.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ include "pier.dataplane.serviceAccountName" . }}
  # The dataplane talks only to the controller, never to the Kubernetes API.
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.dataplane.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ include "pier.dataplane.terminationGracePeriodSeconds" . }}
  securityContext:
    {{- toYaml .Values.dataplane.podSecurityContext | nindent 4 }}
  containers:
    - name: dataplane
      image: {{ include "pier.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command: ["/usr/local/bin/pier-dataplane"]
      args:
        - --controller={{ include "pier.grpc.controllerAddress" . }}
        - --grpc-tls-cert={{ $mount }}/tls.crt
        - --grpc-tls-key={{ $mount }}/tls.key
        - --grpc-ca={{ $mount }}/ca.crt
        - --node-id=$(POD_NAME)
        - --http-listen=:8080
        - --https-listen={{ if .Values.dataplane.https.enabled }}:8443{{ end }}
        {{- if .Values.dataplane.https.enabled }}
        - --https-redirect-port={{ .Values.dataplane.service.ports.https }}
        {{- end }}
        - --admin-listen=:9090
        {{- if gt (int .Values.dataplane.threads) 0 }}
        - --threads={{ .Values.dataplane.threads }}
        {{- end }}
        - --drain-timeout={{ .Values.dataplane.drainTimeoutSeconds }}s
        {{- with $config.connectTimeout }}
        - --default-connect-timeout={{ . }}
        {{- end }}
        {{- with $config.readTimeout }}
        - --default-read-timeout={{ . }}
        {{- end }}
        {{- with $config.sendTimeout }}
        - --default-send-timeout={{ . }}
        {{- end }}
        {{- with $config.websocketIdleTimeout }}
        - --default-websocket-idle-timeout={{ . }}
        {{- end }}
        {{- with $config.proxyBodySize }}
        - --default-proxy-body-size={{ . }}
        {{- end }}
        {{- with $config.trustedProxies }}
        - --trusted-proxies={{ . }}
        {{- end }}
        {{- with $config.maxHeaderBytes }}
        - --max-header-bytes={{ . }}
        {{- end }}
        {{- with $config.headerTimeout }}
        - --header-timeout={{ . }}
        {{- end }}
        {{- with $config.tcpKeepalive }}
        - --tcp-keepalive={{ . }}
        {{- end }}
        {{- with $config.maxConnections }}
        - --max-connections={{ . }}
        {{- end }}
        {{- if $config.proxyProtocol }}
        - --proxy-protocol
        {{- end }}
        {{- if eq (toString $config.accessLog) "false" }}
        - --access-log=false
        {{- end }}
        - --log-format={{ .Values.dataplane.logFormat }}
        - --log-level={{ .Values.dataplane.logLevel }}
        {{- range .Values.dataplane.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- with .Values.dataplane.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        {{- if .Values.dataplane.https.enabled }}
        - name: https
          containerPort: 8443
          protocol: TCP
        {{- end }}
        - name: admin
          containerPort: 9090
          protocol: TCP
      livenessProbe:
        {{- toYaml .Values.dataplane.livenessProbe | nindent 8 }}
      readinessProbe:
        {{- toYaml .Values.dataplane.readinessProbe | nindent 8 }}
      lifecycle:
        # SIGTERM starts the drain at once (readyz 503, listeners close), but endpoint
        # removal reaches kube-proxy and cloud load balancers asynchronously. Waiting first
        # keeps new connections arriving at an open listener until nobody sends them here.
        # The image is debian-slim, so coreutils' sleep exists (no 1.30+ sleep action needed).
        preStop:
          exec:
            command: ["sleep", "{{ .Values.dataplane.preStopSleepSeconds }}"]
      resources:
        {{- toYaml .Values.dataplane.resources | nindent 8 }}
      securityContext:
        {{- toYaml .Values.dataplane.containerSecurityContext | nindent 8 }}
      volumeMounts:
        - name: grpc-tls
          mountPath: {{ $mount }}
          readOnly: true
  volumes:
    - name: grpc-tls
      secret:
        secretName: {{ include "pier.grpc.dataplaneSecretName" . }}
        defaultMode: 0440
  {{- with .Values.dataplane.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.dataplane.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.dataplane.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.dataplane.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
