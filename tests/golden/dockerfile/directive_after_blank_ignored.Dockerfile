
# escape=`
FROM busybox
RUN echo a `
