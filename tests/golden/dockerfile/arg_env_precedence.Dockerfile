FROM busybox
ARG A=from-arg
ENV A=from-env
ARG B=b-default
ENV C=$B
ARG B
ENV D=$A:$B
ARG E=${A}-${B}
ENV A=second X=$A
