# escape=`
FROM busybox
ENV A=one
ENV B=`$A C="`$A" D=\path\$A
WORKDIR C:\$A
