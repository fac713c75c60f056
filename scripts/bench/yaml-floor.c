/* The floor of the fleet benchmark (issue 25; scripts/bench/fleet.py compiles and runs it):
 * libyaml's bare event parse of the given files, as kiothc's config loader starts, with nothing
 * built from the events (no tree, no strings kept). Whatever `kiothc check` and `serve` spend
 * beyond this is their own.
 *
 *   cc -O2 -o yaml-floor yaml-floor.c $(pkg-config --cflags --libs yaml-0.1)
 *   ./yaml-floor FILE...        # prints "files=N events=M"; exit 1 naming a file it cannot parse
 */
#include <stdio.h>
#include <yaml.h>

int main(int argc, char **argv) {
    unsigned long long events = 0;
    for (int i = 1; i < argc; i++) {
        FILE *file = fopen(argv[i], "rb");
        if (!file) {
            perror(argv[i]);
            return 1;
        }
        yaml_parser_t parser;
        if (!yaml_parser_initialize(&parser)) {
            fprintf(stderr, "yaml-floor: cannot initialize libyaml's parser\n");
            return 1;
        }
        yaml_parser_set_input_file(&parser, file);
        int done = 0;
        while (!done) {
            yaml_event_t event;
            if (!yaml_parser_parse(&parser, &event)) {
                fprintf(stderr, "yaml-floor: %s:%lu:%lu: %s\n", argv[i], (unsigned long)parser.problem_mark.line + 1,
                        (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "parse error");
                return 1;
            }
            done = event.type == YAML_STREAM_END_EVENT;
            events++;
            yaml_event_delete(&event);
        }
        yaml_parser_delete(&parser);
        fclose(file);
    }
    printf("files=%d events=%llu\n", argc - 1, events);
    return 0;
}
