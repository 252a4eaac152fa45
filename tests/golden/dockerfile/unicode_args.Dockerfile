FROM busybox
LABEL name="café ☕"
RUN echo "日本語"
