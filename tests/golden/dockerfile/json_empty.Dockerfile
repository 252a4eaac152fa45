FROM busybox
ENTRYPOINT []
CMD []
