/* plinth: a model server that speaks TensorFlow Serving's protocols. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--version")) {
            printf("plinth %s\n", PLINTH_VERSION);
            return 0;
        }
    fprintf(stderr, "plinth: the server is not built yet\n");
    return 1;
}
