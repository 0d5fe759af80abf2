# bash completion for ecrlint: eval "$(ecrlint completion bash)" in ~/.bashrc
_ecrlint() {
    local cur prev cmd opts pre
    local rules='ECR001 ECR101 ECR102 ECR103 ECR104 ECR105 ECR106 ECR107 ECR108 ECR109 ECR110 ECR201 ECR202 ECR203 ECR204 ECR205 ECR206 ECR207 ECR208 ECR209 ECR210 ECR211 ECR301 ECR302 ECR303 ECR304 ECR305 ECR306 ECR307 ECR401 ECR402 ECR403 ECR404 ECR405 ECR406 ECR407 ECR408 parse-error image-not-fully-qualified image-tag-missing image-tag-latest image-reference-invalid ecr-registry-host-invalid image-not-pinned-by-digest image-registry-not-allowed ecr-image-pull-secret image-placeholder kustomize-image-unmatched node-role-missing-ecr-pull eksctl-attach-policy-arns-drops-ecr ecr-auth-token-resource-scoped unknown-ecr-action policy-version ecr-repository-not-covered cross-account-pull-not-granted node-role-missing-batch-check-layer managed-policy-unknown policy-document-rejected pull-through-cache-permission fargate-profile-missing-execution-role fargate-execution-role-untrusted fargate-execution-role-missing-ecr-pull fargate-execution-role-no-source-arn fargate-incompatible-workload fargate-execution-role-arn-invalid daemonset-tolerates-fargate-taint helm-render-failed helm-oci-dependency-unpinned helm-oci-reference-invalid helm-dependency-not-vendored flux-ecr-source-without-aws-provider gitops-static-ecr-credentials gitops-ecr-url-invalid gitops-oci-chart-unpinned'
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W 'check rules explain links completion lsp --help --version' -- "$cur"))
        return
    fi
    cmd="${COMP_WORDS[1]}"
    case "$cmd:$prev" in
        check:--format) COMPREPLY=($(compgen -W 'text json sarif github gitlab junit' -- "$cur")); return;;
        check:--output) COMPREPLY=($(compgen -f -- "$cur")); return;;
        check:--select) pre="${cur%"${cur##*,}"}"; COMPREPLY=($(compgen -P "$pre" -W "$rules" -- "${cur##*,}")); return;;
        check:--ignore) pre="${cur%"${cur##*,}"}"; COMPREPLY=($(compgen -P "$pre" -W "$rules" -- "${cur##*,}")); return;;
        check:--config) COMPREPLY=($(compgen -f -- "$cur")); return;;
        check:--stdin-filename) COMPREPLY=($(compgen -f -- "$cur")); return;;
        check:--fail-on) COMPREPLY=($(compgen -W 'error warning note' -- "$cur")); return;;
        check:--jobs|check:-j) COMPREPLY=(); return;;
        check:--helm-values) COMPREPLY=($(compgen -f -- "$cur")); return;;
        check:--helm-engine) COMPREPLY=($(compgen -W 'auto sdk binary builtin' -- "$cur")); return;;
        check:--baseline) COMPREPLY=($(compgen -f -- "$cur")); return;;
        check:--write-baseline) COMPREPLY=($(compgen -f -- "$cur")); return;;
        rules:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return;;
        links:--format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return;;
        links:--config) COMPREPLY=($(compgen -f -- "$cur")); return;;
    esac
    case "$cmd" in
        check) opts="-h --help --format --output --select --ignore --config --stdin-filename --fail-on --exit-zero --jobs -j --helm-values --helm-engine --fix --show-source --statistics --baseline --write-baseline --no-color --quiet -q --verbose -v --version -V";;
        rules) opts="-h --help --format";;
        explain) opts="$rules -h --help";;
        links) opts="-h --help --format --config";;
        completion) opts="bash zsh fish -h --help";;
        lsp) opts="-h --help --stdio";;
        *) opts='';;
    esac
    if [[ "$cur" == -* ]] || [ "$cmd" = completion ] || [ "$cmd" = explain ] || [ "$cmd" = rules ]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -o bashdefault -F _ecrlint ecrlint
