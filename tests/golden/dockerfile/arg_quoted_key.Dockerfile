FROM busybox
ARG "C=three words"
