from busybox as Builder
run echo hi
Copy a b
