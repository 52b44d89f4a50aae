/* plinth-cli: a client for plinth and TensorFlow Serving. */
#include <stdio.h>

int main(void) {
    fprintf(stderr, "plinth-cli: not built yet\n");
    return 1;
}
