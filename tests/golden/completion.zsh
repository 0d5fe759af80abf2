#compdef ecrlint
# zsh completion for ecrlint: ecrlint completion zsh > "${fpath[1]}/_ecrlint" (then restart zsh)

_ecrlint() {
    local -a commands
    commands=(
        'check:lint files and directories (ecrlint check --help for its options)'
        'rules:list every rule'
        'explain:print a rule'\''s documentation'
        'links:print how files were linked'
        'completion:print a shell completion script'
        'lsp:run the language server over stdio (needs ecrlint\[lsp\])'
    )
    if (( CURRENT == 2 )); then
        _describe -t commands 'ecrlint command' commands
        _arguments '--help[show help]' '--version[show the version]'
        return
    fi
    local cmd=${words[2]}
    shift words; (( CURRENT-- ))
    case $cmd in
        check) _arguments -s \
            '(-h --help)'{-h,--help}'[show this help message and exit]' \
            --format'[output format\: text, json, sarif, github (annotations), gitlab (Code Quality), junit (default\: text)]:value:(text json sarif github gitlab junit)' \
            --output'[write the report to FILE instead of stdout]:file:_files' \
            --select'[comma-separated rule IDs or prefixes to enable (replaces config)]:rules:_sequence compadd - ECR001 ECR101 ECR102 ECR103 ECR104 ECR105 ECR106 ECR107 ECR108 ECR109 ECR110 ECR201 ECR202 ECR203 ECR204 ECR205 ECR206 ECR207 ECR208 ECR209 ECR210 ECR211 ECR301 ECR302 ECR303 ECR304 ECR305 ECR306 ECR307 ECR401 ECR402 ECR403 ECR404 ECR405 ECR406 ECR407 ECR408 parse-error image-not-fully-qualified image-tag-missing image-tag-latest image-reference-invalid ecr-registry-host-invalid image-not-pinned-by-digest image-registry-not-allowed ecr-image-pull-secret image-placeholder kustomize-image-unmatched node-role-missing-ecr-pull eksctl-attach-policy-arns-drops-ecr ecr-auth-token-resource-scoped unknown-ecr-action policy-version ecr-repository-not-covered cross-account-pull-not-granted node-role-missing-batch-check-layer managed-policy-unknown policy-document-rejected pull-through-cache-permission fargate-profile-missing-execution-role fargate-execution-role-untrusted fargate-execution-role-missing-ecr-pull fargate-execution-role-no-source-arn fargate-incompatible-workload fargate-execution-role-arn-invalid daemonset-tolerates-fargate-taint helm-render-failed helm-oci-dependency-unpinned helm-oci-reference-invalid helm-dependency-not-vendored flux-ecr-source-without-aws-provider gitops-static-ecr-credentials gitops-ecr-url-invalid gitops-oci-chart-unpinned' \
            --ignore'[comma-separated rule IDs or prefixes to disable (adds to config)]:rules:_sequence compadd - ECR001 ECR101 ECR102 ECR103 ECR104 ECR105 ECR106 ECR107 ECR108 ECR109 ECR110 ECR201 ECR202 ECR203 ECR204 ECR205 ECR206 ECR207 ECR208 ECR209 ECR210 ECR211 ECR301 ECR302 ECR303 ECR304 ECR305 ECR306 ECR307 ECR401 ECR402 ECR403 ECR404 ECR405 ECR406 ECR407 ECR408 parse-error image-not-fully-qualified image-tag-missing image-tag-latest image-reference-invalid ecr-registry-host-invalid image-not-pinned-by-digest image-registry-not-allowed ecr-image-pull-secret image-placeholder kustomize-image-unmatched node-role-missing-ecr-pull eksctl-attach-policy-arns-drops-ecr ecr-auth-token-resource-scoped unknown-ecr-action policy-version ecr-repository-not-covered cross-account-pull-not-granted node-role-missing-batch-check-layer managed-policy-unknown policy-document-rejected pull-through-cache-permission fargate-profile-missing-execution-role fargate-execution-role-untrusted fargate-execution-role-missing-ecr-pull fargate-execution-role-no-source-arn fargate-incompatible-workload fargate-execution-role-arn-invalid daemonset-tolerates-fargate-taint helm-render-failed helm-oci-dependency-unpinned helm-oci-reference-invalid helm-dependency-not-vendored flux-ecr-source-without-aws-provider gitops-static-ecr-credentials gitops-ecr-url-invalid gitops-oci-chart-unpinned' \
            --config'[config file (default\: the nearest .ecrlint.yaml or pyproject.toml above the paths checked)]:file:_files' \
            --stdin-filename'[the path of the file read from stdin, for kind detection, config and output]:file:_files' \
            --fail-on'[lowest severity that exits 1 (default\: error)]:value:(error warning note)' \
            --exit-zero'[exit 0 even when there are findings]' \
            '(--jobs -j)'{--jobs,-j}'[processes reading files, this one included (default\: all cores for large inputs)]:value:' \
            --helm-values'[extra Helm values file (repeatable)]:file:_files' \
            --helm-engine'[Helm renderer (default\: auto)]:value:(auto sdk binary builtin)' \
            --fix'[apply unambiguous fixes in place]' \
            --show-source'[text format\: show each finding'\''s source line with carets]' \
            --statistics'[print a count per rule instead of the findings (text or json)]' \
            --baseline'[leave out the findings FILE lists (see --write-baseline)\: fail only on new ones]:file:_files' \
            --write-baseline'[record every current finding in FILE and exit 0]:file:_files' \
            --no-color'[no colours (also\: NO_COLOR)]' \
            '(--quiet -q)'{--quiet,-q}'[print the findings only\: no summary, no progress]' \
            '(--verbose -v)'{--verbose,-v}'[notes on skipped files and unjudged roles; tracebacks]' \
            '(--version -V)'{--version,-V}'[show the version and exit]' \
            '*:path:_files' \
            ;;
        rules) _arguments -s \
            '(-h --help)'{-h,--help}'[show this help message and exit]' \
            --format'[output format (default\: text)]:value:(text json)' \
            ;;
        explain) _arguments -s \
            '(-h --help)'{-h,--help}'[show this help message and exit]' \
            '1:rule:(ECR001 ECR101 ECR102 ECR103 ECR104 ECR105 ECR106 ECR107 ECR108 ECR109 ECR110 ECR201 ECR202 ECR203 ECR204 ECR205 ECR206 ECR207 ECR208 ECR209 ECR210 ECR211 ECR301 ECR302 ECR303 ECR304 ECR305 ECR306 ECR307 ECR401 ECR402 ECR403 ECR404 ECR405 ECR406 ECR407 ECR408 parse-error image-not-fully-qualified image-tag-missing image-tag-latest image-reference-invalid ecr-registry-host-invalid image-not-pinned-by-digest image-registry-not-allowed ecr-image-pull-secret image-placeholder kustomize-image-unmatched node-role-missing-ecr-pull eksctl-attach-policy-arns-drops-ecr ecr-auth-token-resource-scoped unknown-ecr-action policy-version ecr-repository-not-covered cross-account-pull-not-granted node-role-missing-batch-check-layer managed-policy-unknown policy-document-rejected pull-through-cache-permission fargate-profile-missing-execution-role fargate-execution-role-untrusted fargate-execution-role-missing-ecr-pull fargate-execution-role-no-source-arn fargate-incompatible-workload fargate-execution-role-arn-invalid daemonset-tolerates-fargate-taint helm-render-failed helm-oci-dependency-unpinned helm-oci-reference-invalid helm-dependency-not-vendored flux-ecr-source-without-aws-provider gitops-static-ecr-credentials gitops-ecr-url-invalid gitops-oci-chart-unpinned)' \
            ;;
        links) _arguments -s \
            '(-h --help)'{-h,--help}'[show this help message and exit]' \
            --format'[output format (default\: text)]:value:(text json)' \
            --config'[config file (default\: nearest .ecrlint.yaml or pyproject.toml)]:file:_files' \
            '*:path:_files' \
            ;;
        completion) _arguments -s \
            '(-h --help)'{-h,--help}'[show this help message and exit]' \
            '1:shell:(bash zsh fish)' \
            ;;
        lsp) _arguments -s \
            '(-h --help)'{-h,--help}'[show this help message and exit]' \
            --stdio'[talk over stdin/stdout (the default, and the only transport)]' \
            ;;
    esac
}

if [ "$funcstack[1]" = "_ecrlint" ]; then
    _ecrlint "$@"
else
    compdef _ecrlint ecrlint
fi
