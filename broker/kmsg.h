/* The kernel's record of a seccomp kill, to name the call. */
#ifndef BROKER_KMSG_H
#define BROKER_KMSG_H

#include <sys/types.h>

void	kmsg_open(void);
char	*kmsg_seccomp_culprit(pid_t);

#endif
