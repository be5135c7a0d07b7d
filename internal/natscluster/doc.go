// Package natscluster runs a real nats-server cluster of separate processes
// on loopback, for tests that must see what a cluster does and an
// embedded single server cannot: replicas, leader elections, a node killed
// with SIGKILL and restarted on its files. The binary is the nats-server
// module go.mod pins, built once into the user's cache directory (offline
// from the module cache); every node's ports are free loopback ones, and
// Close leaves no process or directory behind.
package natscluster
