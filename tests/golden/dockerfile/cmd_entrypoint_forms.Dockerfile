FROM busybox
CMD echo "shell form"
CMD ["exec", "form"]
ENTRYPOINT top -b
ENTRYPOINT ["/entry.sh"]
CMD []
