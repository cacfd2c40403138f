// hello-native is the compiled test app of the foreign-architecture tests:
// a static binary built for each architecture, packed by hello-native.spec.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	fmt.Printf("Hello from org.example.Native on %s\n", runtime.GOARCH)
}
