include make/*.mk
