ARG OK=1
RUN echo nope
FROM busybox
