FROM busybox
CMD ["echo", "a"] trailing
