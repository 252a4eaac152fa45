# escape=`
FROM busybox
RUN a `
 b
